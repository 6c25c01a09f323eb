import BackfillCore
import BackfillFiles
import Foundation
import PropertyBased
import Testing

/// parse ∘ print is the identity: rows printed as CSV (RFC 4180 quoting) or JSONL and read back
/// through the real sources, in small batches, come back value for value.
@Suite(.timeLimit(.minutes(2))) struct RoundTripPropertyTests {
    /// Characters that stress the formats: separators, quotes, line breaks, escapes, non-ASCII.
    static let characters: [Character] = [",", "\"", "\n", "\r", "\r\n", "\t", " ", "\\", "{", "}", "'", "a", "Z", "0", "é", "😀", "\u{301}", "\u{2028}"]
    static let text = Gen<Character?>.element(of: characters).map { $0! }.string(of: 0...10)
    static let rows = PropertyBased.zip(text, text, Gen.int64(), Gen.double(in: -1e15...1e15)).array(of: 1...25)

    /// RFC 4180 quoting, scalar by scalar (a quote followed by a combining mark is one Character).
    static func csvField(_ text: String) -> String {
        "\"" + String(String.UnicodeScalarView(text.unicodeScalars.flatMap { $0 == "\"" ? ["\"", "\""] : [$0] })) + "\""
    }

    @Test func csvPrintThenParseIsIdentity() async throws {
        await propertyCheck(count: 150, input: Self.rows) { rows in
            let csv = "id,a,b\n" + rows.map { a, b, id, _ in "\(id),\(Self.csvField(a)),\(Self.csvField(b))" }.joined(separator: "\r\n") + "\n"
            let read = try? await withTemporaryFile(csv) { path in
                try await readAll(CSVSource(path: path, columns: ["id", "a", "b"]), batchSize: 4)
            }
            let expected = rows.map { a, b, id, _ in [Value.text(String(id)), .text(a), .text(b)] }
            #expect(read?.rejected.isEmpty == true)
            #expect(read.map { Self.same($0.rows, expected) } == true, "\(csv.debugDescription)")
        }
    }

    @Test func jsonlPrintThenParseIsIdentity() async throws {
        await propertyCheck(count: 150, input: Self.rows) { rows in
            let lines = rows.map { a, b, id, x -> String in
                let object: [String: Any] = ["id": id, "a": a, "b": b, "x": x]
                let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                return String(decoding: data, as: UTF8.self)
            }
            let read = try? await withTemporaryFile(lines.joined(separator: "\n") + "\n", extension: "jsonl") { path in
                try await readAll(JSONLSource(path: path, columns: ["id", "a", "b", "x"]), batchSize: 4)
            }
            let expected = rows.map { a, b, id, x in [Value.integer(id), .text(a), .text(b), .real(x)] }
            #expect(read?.rejected.isEmpty == true, "\(String(describing: read?.rejected.first))")
            #expect(read.map { Self.same($0.rows, expected) } == true, "\(lines.first ?? "")")
        }
    }

    /// Row lists equal as stored values (`3` and `3.0` are one value; text byte for byte).
    static func same(_ a: [[Value]], _ b: [[Value]]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { $0.isSameStoredValue(as: $1) } }
    }
}
