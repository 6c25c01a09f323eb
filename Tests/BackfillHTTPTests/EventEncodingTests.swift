import BackfillCore
import BackfillHTTP
import Foundation
import Testing

@Suite struct EventEncodingTests {
    @Test("an event's body is one JSON object of its columns, escaped, in column order")
    func body() throws {
        let bytes = EventJSON.encode(
            columns: ["id", "note", "amount", "gone", "raw"],
            row: [.integer(7), .text("say \"hi\"\n\tback\\slash\u{1}"), .real(12.5), .null, .blob([0, 255])])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"id":7,"note":"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["note"] as? String == "say \"hi\"\n\tback\\slash\u{1}")
        #expect(object["amount"] as? Double == 12.5)
        #expect(object["gone"] is NSNull)
        #expect(object["raw"] as? String == "AP8=")
    }

    @Test("a signature verifies with the secret it was made with, and not with another secret or body")
    func signature() {
        let body = Array(#"{"id":1}"#.utf8)
        let header = WebhookSignature.header(secret: "s3cret", timestamp: 1_700_000_000, body: body)
        #expect(header.hasPrefix("t=1700000000,v1="))
        #expect(header.count == "t=1700000000,v1=".count + 64)
        #expect(WebhookSignature.verify(header, secret: "s3cret", body: body))
        #expect(!WebhookSignature.verify(header, secret: "other", body: body))
        #expect(!WebhookSignature.verify(header, secret: "s3cret", body: Array(#"{"id":2}"#.utf8)))
    }
}
