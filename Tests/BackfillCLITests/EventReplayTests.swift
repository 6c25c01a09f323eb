import BackfillCore
import BackfillTesting
import Foundation
import Testing

/// Event replay to a real HTTP receiver on 127.0.0.1 (`WebhookReceiver`), by the real binary.
@Suite(.timeLimit(.minutes(6)))
struct EventReplayTests {
    static let secret = "whsec-test-7f3a91"

    /// A SQLite event log: `count` events over `accounts` order keys, `seq` counting each key's
    /// events in `occurred_at` order, and a job replaying it to `receiver`.
    static func workspace(
        events count: Int, accounts: Int, receiver: WebhookReceiver, extra: String = "", timeout: String = "1s", concurrency: Int = 8
    ) throws -> String {
        let dir = try Fixtures.temporaryDirectory("events")
        try Fixtures.execute(path: dir + "/events.db", """
            CREATE TABLE events (id INTEGER PRIMARY KEY, account TEXT NOT NULL, seq INTEGER NOT NULL, occurred_at TEXT NOT NULL, payload TEXT);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count))
            INSERT INTO events
            SELECT i, 'acct-' || (i % \(accounts)), (i - 1) / \(accounts), printf('2026-11-01T00:%02d:%02dZ', i / 60 % 60, i % 60) || printf('%06d', i),
                   '{"amount": ' || (i * 7 % 1000) || ', "note": "line\\nbreak"}'
            FROM n;
            """)
        try """
            name: replay
            source: { sqlite: events.db, table: events }
            target: { webhook: "\(receiver.url)", secret: "${WEBHOOK_SECRET}", timeout: \(timeout), concurrency: \(concurrency), headers: { X-Source: backfill-test } }
            events: { id: id, order-key: account, order-by: occurred_at }
            batch: { size: 50, min: 10 }
            limits: { backoff: 50ms, retries: 10 }
            \(extra)
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    static let environment = ["WEBHOOK_SECRET": secret]

    /// `file.yaml` in `dir`: the workspace's events appended to the JSONL log `out.jsonl`.
    static func writeFileSpec(_ dir: String) throws {
        try """
            name: to-file
            source: { sqlite: events.db, table: events }
            target: { jsonl: out.jsonl }
            mode: insert-missing
            events: { id: id, order-key: account, order-by: occurred_at }
            batch: { size: 20, min: 10 }
            """.write(toFile: dir + "/file.yaml", atomically: true, encoding: .utf8)
    }

    /// Each order key's events were processed in order, and every one of them.
    static func inOrder(_ tally: WebhookReceiver.Tally, events: Int, accounts: Int) -> Bool {
        tally.sequences.count == accounts && tally.sequences.values.allSatisfy { $0 == Array(0..<$0.count) }
            && tally.sequences.values.reduce(0) { $0 + $1.count } == events
    }

    @Test("500s, 429s with Retry-After and answers slower than the timeout: every event is processed once, in order per key, signed; the secret stays out of the output")
    func faults() async throws {
        var faults = WebhookReceiver.Faults()
        faults.failureRate = 0.2
        faults.throttleEvery = 37
        faults.slowEvery = 53
        faults.slowDelay = .milliseconds(1500)
        let receiver = try await WebhookReceiver.start(secret: Self.secret, faults: faults, orderField: "account", sequenceField: "seq")
        defer { Task { await receiver.stop() } }
        let dir = try Self.workspace(events: 300, accounts: 20, receiver: receiver)
        let result = try await Binary.run(["run", "job.yaml", "--json", "--log-level", "debug"], in: dir, environment: Self.environment)
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let tally = receiver.tally
        #expect(tally.processed.count == 300 && Set(tally.processed).count == 300)
        #expect(tally.badSignatures == 0)
        #expect(Self.inOrder(tally, events: 300, accounts: 20), "\(tally.sequences.prefix(3))")
        #expect(tally.requests > 300, "the faults were injected: \(tally.requests) requests")
        #expect(!result.stdout.contains(Self.secret) && !result.stderr.contains(Self.secret))
        #expect(result.stdout.contains("\"inserted\" : 300") || result.stdout.contains("\"inserted\":300"), "\(result.stdout)")

        // Run again: the ledger holds every event, nothing is sent.
        let before = receiver.tally.requests
        let again = try await Binary.run(["run", "job.yaml", "--json"], in: dir, environment: Self.environment)
        #expect(again.status == 0)
        #expect(receiver.tally.requests == before)
    }

    @Test("kill -9 mid-replay, then run again: every event processed once, and only the last unrecorded ones sent twice")
    func killAndResume() async throws {
        var faults = WebhookReceiver.Faults()
        faults.slowEvery = 1
        faults.slowDelay = .milliseconds(15)
        let receiver = try await WebhookReceiver.start(secret: Self.secret, faults: faults, orderField: "account", sequenceField: "seq")
        defer { Task { await receiver.stop() } }
        let dir = try Self.workspace(events: 600, accounts: 30, receiver: receiver, concurrency: 4)
        let process = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log", environment: Self.environment)
        while receiver.tally.processed.count < 200 && process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        kill(process.processIdentifier, SIGKILL)
        await Binary.wait(process)
        let result = try await Binary.run(["run", "job.yaml", "--json"], in: dir, environment: Self.environment)
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let tally = receiver.tally
        #expect(tally.processed.count == 600 && Set(tally.processed).count == 600)
        #expect(Self.inOrder(tally, events: 600, accounts: 30))
        // Acknowledgements are recorded in groups as they come in (at most two groups wait); the 4
        // requests in flight come on top.
        #expect(tally.redeliveries <= 2 * EventFlow.ledgerGroup + 4, "\(tally.redeliveries) acknowledged events sent again")
    }

    @Test("the receiver down for a while, then up: the run waits for it and delivers everything, quarantining nothing")
    func receiverDownThenUp() async throws {
        let receiver = try await WebhookReceiver.start(secret: Self.secret, orderField: "account", sequenceField: "seq")
        defer { Task { await receiver.stop() } }
        let dir = try Self.workspace(events: 200, accounts: 10, receiver: receiver)
        await receiver.goDown()
        let process = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log", environment: Self.environment)
        // The event: the run has tried (and retried) deliveries the receiver refused.
        _ = try await RunLifecycleTests.waitUntil({ receiver.tally.refusedWhileDown >= 3 || !process.isRunning }, then: { () })
        try await receiver.comeUp()
        await Binary.wait(process)
        #expect(process.terminationStatus == 0, "\((try? String(contentsOfFile: dir + "/run.log", encoding: .utf8)) ?? "")")
        let tally = receiver.tally
        #expect(tally.processed.count == 200 && Set(tally.processed).count == 200)
        #expect(Self.inOrder(tally, events: 200, accounts: 10))
        let quarantine = try await Binary.run(["quarantine", "1", "--json"], in: dir)
        #expect(quarantine.status == 0 && !quarantine.stdout.contains("\"reason\""), "\(quarantine.stdout)")
    }

    @Test("a 4xx refuses an event for good: it is quarantined with the status, every other event is delivered; a rerun offers only the refused ones again")
    func refusedEventsAreQuarantined() async throws {
        var faults = WebhookReceiver.Faults()
        faults.refuse = ["17", "42"]
        let receiver = try await WebhookReceiver.start(secret: Self.secret, faults: faults)
        defer { Task { await receiver.stop() } }
        let dir = try Self.workspace(events: 100, accounts: 5, receiver: receiver)
        let result = try await Binary.run(["run", "job.yaml", "--json"], in: dir, environment: Self.environment)
        #expect(result.status == 5, "refused events stay in quarantine: exit 5\n\(result.stderr.suffix(2000))")
        #expect(Set(receiver.tally.processed) == Set((1...100).map(String.init)).subtracting(["17", "42"]))
        let quarantine = try await Binary.run(["quarantine", "1", "--json"], in: dir)
        #expect(quarantine.stdout.components(separatedBy: "HTTP 422").count - 1 == 2, "\(quarantine.stdout)")
        let before = receiver.tally.requests
        _ = try await Binary.run(["run", "job.yaml"], in: dir, environment: Self.environment)
        #expect(receiver.tally.requests == before + 2, "delivered events are in the ledger; refused ones were never accepted")
        #expect(receiver.tally.processed.count == 98)
    }

    @Test("every retried request of an event counts in the run's retries: one per 429, exactly")
    func retriesAreCounted() async throws {
        var faults = WebhookReceiver.Faults()
        faults.throttleEvery = 7
        faults.retryAfter = 0
        let receiver = try await WebhookReceiver.start(secret: Self.secret, faults: faults)
        defer { Task { await receiver.stop() } }
        let dir = try Self.workspace(events: 120, accounts: 6, receiver: receiver)
        let result = try await Binary.run(["run", "job.yaml", "--json"], in: dir, environment: Self.environment)
        #expect(result.status == 0, "\(result.stderr.suffix(1000))")
        let tally = receiver.tally
        #expect(tally.processed.count == 120 && tally.requests > 120)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let counters = try #require(report["counters"] as? [String: Any])
        #expect(counters["retries"] as? Int == tally.requests - 120, "every request beyond an event's first is a retry: \(counters)")
        // The report: answers by status, and events by the retries they needed.
        let reported = try await Binary.run(["report", "1"], in: dir)
        let throttled = tally.requests - 120
        #expect(reported.stdout.contains("answers: 200 ×120 · 429 ×\(throttled); retries per event: 0 ×"), "\(reported.stdout)")
        // `n ×count` buckets (the last `3+`): every event once, and (an event may meet a 429 more
        // than once) the retries they add up to — at least, where some needed 3 or more.
        let histogram = try #require(reported.stdout.components(separatedBy: "retries per event: ").last?.split(separator: "\n").first)
        let buckets = histogram.components(separatedBy: " · ").compactMap { bucket -> (n: Int, count: Int, orMore: Bool)? in
            let parts = bucket.components(separatedBy: " ×")
            let orMore = parts.first?.hasSuffix("+") ?? false
            guard parts.count == 2, let n = Int(parts[0].replacingOccurrences(of: "+", with: "")), let count = Int(parts[1]) else { return nil }
            return (n, count, orMore)
        }
        let counted = buckets.reduce(0) { $0 + $1.n * $1.count }
        #expect(buckets.reduce(0) { $0 + $1.count } == 120, "\(histogram)")
        #expect(buckets.contains { $0.orMore } ? counted <= throttled : counted == throttled, "\(histogram)")
    }

    @Test("a dry run sends nothing")
    func dryRun() async throws {
        let receiver = try await WebhookReceiver.start(secret: Self.secret)
        defer { Task { await receiver.stop() } }
        let dir = try Self.workspace(events: 20, accounts: 2, receiver: receiver)
        let result = try await Binary.run(["run", "job.yaml", "--dry-run"], in: dir, environment: Self.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.tally.requests == 0)
    }

    @Test("an events file target appends only events not yet in it, cuts a line a crash left short, and a rerun appends nothing")
    func eventsFile() async throws {
        let receiver = try await WebhookReceiver.start(secret: nil)
        defer { Task { await receiver.stop() } }
        let dir = try Self.workspace(events: 50, accounts: 3, receiver: receiver)
        try Self.writeFileSpec(dir)
        // Two events already there, and a third cut short by a crash.
        try #"{"id":1,"account":"acct-1"}\#n{"id":2,"account":"acct-2"}\#n{"id":3,"acc"#.write(toFile: dir + "/out.jsonl", atomically: true, encoding: .utf8)
        let result = try await Binary.run(["run", "file.yaml", "--json"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8).split(separator: "\n")
        let ids = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["id"] as? Int
        }
        #expect(ids == Array(1...50), "\(ids)")
        let again = try await Binary.run(["run", "file.yaml"], in: dir)
        #expect(again.status == 0)
        #expect(try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8).split(separator: "\n").count == 50)

        try "{\"id\":1}\nnot json\n".write(toFile: dir + "/out.jsonl", atomically: true, encoding: .utf8)
        let broken = try await Binary.run(["run", "file.yaml"], in: dir)
        #expect(broken.status == 2 && broken.stderr.contains("line 2"), "\(broken.stderr)")
        let spec = try String(contentsOfFile: dir + "/file.yaml", encoding: .utf8)
        try spec.replacingOccurrences(of: "mode: insert-missing", with: "mode: upsert").write(toFile: dir + "/upsert.yaml", atomically: true, encoding: .utf8)
        let upsert = try await Binary.run(["validate", "upsert.yaml"], in: dir)
        #expect(upsert.status == 2 && upsert.stderr.contains("append-only"), "\(upsert.stderr)")
    }

    @Test("event specs are checked: a webhook needs events:, events need one worker and a webhook, the URL must be http(s)")
    func specProblems() async throws {
        let receiver = try await WebhookReceiver.start(secret: nil)
        defer { Task { await receiver.stop() } }
        let dir = try Self.workspace(events: 5, accounts: 1, receiver: receiver, extra: "workers: 4")
        let workers = try await Binary.run(["validate", "job.yaml"], in: dir, environment: Self.environment)
        #expect(workers.status == 2 && workers.stderr.contains("workers"))
        try """
            name: bad
            source: { sqlite: events.db, table: events }
            target: { webhook: "ftp://example.com/x", secret: "${WEBHOOK_SECRET}", headers: { Idempotency-Key: mine } }
            """.write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try await Binary.run(["validate", "bad.yaml"], in: dir, environment: ["WEBHOOK_SECRET": ""])
        #expect(bad.status == 2)
        for expected in ["add events:", "http:// or https://", "backfill sets Idempotency-Key", "secret is empty"] {
            #expect(bad.stderr.contains(expected), "\(bad.stderr)")
        }
    }

    @Test("SIGTERM while events are in flight waits for them; a second SIGTERM ends the process at once")
    func secondSignalStopsAtOnce() async throws {
        var faults = WebhookReceiver.Faults()
        faults.slowEvery = 1
        faults.slowDelay = .seconds(120)
        let receiver = try await WebhookReceiver.start(secret: Self.secret, faults: faults, orderField: "account", sequenceField: "seq")
        defer { Task { await receiver.stop() } }
        let dir = try Self.workspace(events: 50, accounts: 5, receiver: receiver, timeout: "300s", concurrency: 2)
        let process = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log", environment: Self.environment)
        // The event: a batch is in flight (the receiver holds its requests for two minutes).
        while receiver.tally.requests == 0 && process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        kill(process.processIdentifier, SIGTERM)
        let log = dir + "/run.log"
        while process.isRunning, !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("signal again to stop at once") {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(process.isRunning, "the first signal waits for the events in flight")
        kill(process.processIdentifier, SIGTERM)
        await Binary.wait(process, timeout: 60)
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM, "\(process.terminationStatus)")
    }
}
