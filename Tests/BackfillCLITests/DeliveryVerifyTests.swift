import BackfillTesting
import Foundation
import Testing

/// `backfill verify` on an events job: proof of delivery against the ledger (webhook, a real HTTP
/// receiver on 127.0.0.1) or the file (JSONL), by the real binary.
@Suite(.timeLimit(.minutes(4)))
struct DeliveryVerifyTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("webhook: a refused event (with its status), an event whose ledger entry is gone, an event gone from the source — named; --repair offers the undelivered again")
    func webhookLedger() async throws {
        var faults = WebhookReceiver.Faults()
        faults.refuse = ["17"]
        let receiver = try await WebhookReceiver.start(secret: EventReplayTests.secret, faults: faults)
        defer { Task { await receiver.stop() } }
        let dir = try EventReplayTests.workspace(events: 100, accounts: 5, receiver: receiver)
        let run = try await Binary.run(["run", "job.yaml"], in: dir, environment: EventReplayTests.environment)
        #expect(run.status == 5, "\(run.stderr.suffix(1000))")

        let delivered = try await Binary.run(["verify", "job.yaml"], in: dir, environment: EventReplayTests.environment)
        #expect(delivered.status == 3 && delivered.stdout.contains("refused          id 17: the receiver refused the event: HTTP 422"), "\(delivered.stdout)")

        try Fixtures.execute(path: dir + "/.backfill/state.db", "DELETE FROM ledger WHERE event_id = '5'")
        try Fixtures.execute(path: dir + "/events.db", "DELETE FROM events WHERE id = 100")
        let verify = try await Binary.run(["verify", "job.yaml", "--json"], in: dir, environment: EventReplayTests.environment)
        #expect(verify.status == 3, "\(verify.stdout) \(verify.stderr)")
        let report = try Self.json(verify.stdout)
        #expect(report["sourceEvents"] as? Int == 99 && report["delivered"] as? Int == 97, "\(report)")
        #expect(report["refused"] as? Int == 1 && report["neverDelivered"] as? Int == 1 && report["deliveredNotInSource"] as? Int == 1)
        let undelivered = try #require(report["undelivered"] as? [[String: Any]])
        #expect(Set(undelivered.compactMap { $0["id"] as? String }) == ["5", "17"])
        #expect(report["notInSource"] as? [String] == ["100"] && report["result"] as? String == "missing")

        // Offered again: 5 is acknowledged (the receiver had processed it: a redelivery), 17 refused again.
        let before = receiver.tally
        let repair = try await Binary.run(["verify", "job.yaml", "--repair"], in: dir, environment: EventReplayTests.environment)
        #expect(repair.status == 3, "17 is still refused\n\(repair.stdout) \(repair.stderr)")
        #expect(repair.stdout.contains("never delivered  id 5") && repair.stdout.contains("repair run"), "\(repair.stdout)")
        #expect(receiver.tally.requests == before.requests + 2 && receiver.tally.redeliveries == before.redeliveries + 1,
            "\(receiver.tally.requests) \(before.requests) \(receiver.tally.redeliveries) \(repair.stdout) \(repair.stderr.suffix(3000))")
        #expect(receiver.tally.processed.count == 99, "the first run processed all but 17")
        let after = try Self.json(try await Binary.run(["verify", "job.yaml", "--json"], in: dir, environment: EventReplayTests.environment).stdout)
        #expect(after["neverDelivered"] as? Int == 0 && after["refused"] as? Int == 1, "\(after)")
        let status = try await Binary.run(["status", "--json"], in: dir)
        #expect(status.stdout.contains("\"missing\" : 1"), "the verification is recorded on the run: \(status.stdout.prefix(1500))")
    }

    @Test("JSONL event log: an event missing from the file is named, --repair appends it, then every event is proven delivered")
    func eventsFile() async throws {
        let receiver = try await WebhookReceiver.start(secret: nil)
        defer { Task { await receiver.stop() } }
        let dir = try EventReplayTests.workspace(events: 40, accounts: 3, receiver: receiver)
        try EventReplayTests.writeFileSpec(dir)
        #expect(try await Binary.run(["run", "file.yaml"], in: dir).status == 0)
        let proven = try await Binary.run(["verify", "file.yaml"], in: dir)
        #expect(proven.status == 0 && proven.stdout.contains("EVERY EVENT DELIVERED") && proven.stdout.contains("source 40 events · delivered 40"), "\(proven.stdout)")

        let lines = try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8).split(separator: "\n")
        try (lines.filter { !$0.hasPrefix("{\"id\":7,") }.joined(separator: "\n") + "\n").write(toFile: dir + "/out.jsonl", atomically: true, encoding: .utf8)
        let missing = try await Binary.run(["verify", "file.yaml"], in: dir)
        #expect(missing.status == 3 && missing.stdout.contains("never delivered  id 7") && missing.stdout.contains("never delivered 1"), "\(missing.stdout)")
        #expect(try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8).split(separator: "\n").count == 39, "verify writes nothing")

        let repair = try await Binary.run(["verify", "file.yaml", "--repair"], in: dir)
        #expect(repair.status == 0, "\(repair.stdout) \(repair.stderr)")
        #expect(try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8).split(separator: "\n").last?.hasPrefix("{\"id\":7,") == true)
        #expect(try await Binary.run(["verify", "file.yaml"], in: dir).status == 0)
        let extra = try await Binary.run(["verify", "file.yaml", "--repair", "--delete-extra"], in: dir)
        #expect(extra.status == 2 && extra.stderr.contains("cannot be taken back"), "\(extra.stderr)")
    }
}
