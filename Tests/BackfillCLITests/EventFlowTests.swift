import BackfillCore
import BackfillTesting
import Foundation
import Testing

/// The per-key flow of event replay (`EventFlow`) by the real binary against a real receiver on
/// 127.0.0.1: one order key held back does not hold back the others, order per key holds across
/// many batches under faults, and `kill -9` with many keys in flight resends no more than the
/// documented window.
@Suite(.timeLimit(.minutes(6)))
struct EventFlowTests {
    @Test("a key whose receiver answers 429 does not stop the other keys: their events all arrive meanwhile, and the key's once it is let through, in order")
    func heldBackKeyDoesNotStopOthers() async throws {
        let receiver = try await WebhookReceiver.start(secret: EventReplayTests.secret, orderField: "account", sequenceField: "seq")
        defer { Task { await receiver.stop() } }
        // 600 events over 12 keys, 50 a batch: every key has events in every batch.
        let dir = try EventReplayTests.workspace(events: 600, accounts: 12, receiver: receiver)
        receiver.holdBack(orderKey: "acct-5")
        let process = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log", environment: EventReplayTests.environment)
        // The event: every other key's 550 events were processed while acct-5 got only 429s.
        let others = try await RunLifecycleTests.waitUntil(
            { receiver.tally.processed.count >= 550 || !process.isRunning }, then: { receiver.tally })
        #expect(process.isRunning, "the run waits for the held-back key")
        #expect(others.processed.count == 550 && others.sequences["acct-5"] == nil, "\(others.processed.count) processed")
        #expect(others.requests > 550, "acct-5's first event was tried (and answered 429) meanwhile")
        receiver.letThrough(orderKey: "acct-5")
        await Binary.wait(process)
        #expect(process.terminationStatus == 0, "\((try? String(contentsOfFile: dir + "/run.log", encoding: .utf8))?.suffix(2000) ?? "")")
        let tally = receiver.tally
        #expect(tally.processed.count == 600 && Set(tally.processed).count == 600)
        #expect(EventReplayTests.inOrder(tally, events: 600, accounts: 12))
    }

    @Test("per-key order holds across many batches under 500s and 429s: each of 7 keys spans 40 batches")
    func orderAcrossBatchesUnderFaults() async throws {
        var faults = WebhookReceiver.Faults()
        faults.failureRate = 0.2
        faults.throttleEvery = 11
        faults.retryAfter = 0
        let receiver = try await WebhookReceiver.start(secret: EventReplayTests.secret, faults: faults, orderField: "account", sequenceField: "seq")
        defer { Task { await receiver.stop() } }
        let dir = try EventReplayTests.workspace(
            events: 1000, accounts: 7, receiver: receiver, concurrency: 16)
        try String(contentsOfFile: dir + "/job.yaml", encoding: .utf8)
            .replacingOccurrences(of: "batch: { size: 50, min: 10 }", with: "batch: { size: 25, min: 25, max: 25 }")
            .replacingOccurrences(of: "backoff: 50ms", with: "backoff: 5ms")
            .write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let result = try await Binary.run(["run", "job.yaml", "--json"], in: dir, environment: EventReplayTests.environment)
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let tally = receiver.tally
        #expect(tally.processed.count == 1000 && Set(tally.processed).count == 1000)
        #expect(tally.badSignatures == 0)
        #expect(EventReplayTests.inOrder(tally, events: 1000, accounts: 7), "\(tally.sequences.mapValues { $0.prefix(8) })")
        #expect(tally.requests > 1100, "the faults were injected: \(tally.requests) requests")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let counters = try #require(report["counters"] as? [String: Any])
        #expect(counters["inserted"] as? Int == 1000 && counters["retries"] as? Int == tally.requests - 1000, "\(counters)")
    }

    @Test("kill -9 with 32 requests in flight over 200 keys, then run again: every event processed once and in order; acknowledged events sent again only within the documented window")
    func killWithManyKeysInFlight() async throws {
        let receiver = try await WebhookReceiver.start(secret: EventReplayTests.secret, orderField: "account", sequenceField: "seq")
        defer { Task { await receiver.stop() } }
        // From the 1,000th event on, answers take a minute: requests pile up in flight until the kill.
        receiver.answerLate(by: .seconds(60), afterProcessing: 1000)
        let dir = try EventReplayTests.workspace(events: 3000, accounts: 200, receiver: receiver, timeout: "120s", concurrency: 32)
        let process = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log", environment: EventReplayTests.environment)
        _ = try await RunLifecycleTests.waitUntil({ receiver.tally.processed.count >= 1000 + 32 || !process.isRunning }, then: { () })
        kill(process.processIdentifier, SIGKILL)
        await Binary.wait(process)
        #expect(receiver.tally.processed.count == 1000 + 32, "killed mid-stream with 32 requests in flight")
        receiver.answerLate(by: nil)
        let result = try await Binary.run(["run", "job.yaml", "--json"], in: dir, environment: EventReplayTests.environment)
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let tally = receiver.tally
        #expect(tally.processed.count == 3000 && Set(tally.processed).count == 3000)
        #expect(EventReplayTests.inOrder(tally, events: 3000, accounts: 200))
        // Acknowledgements not yet in the ledger (at most two groups) and the requests in flight.
        #expect(tally.redeliveries <= 2 * EventFlow.ledgerGroup + 32, "\(tally.redeliveries) acknowledged events sent again")
        let verify = try await Binary.run(["verify", "job.yaml"], in: dir, environment: EventReplayTests.environment)
        #expect(verify.status == 0, "every event proven delivered: \(verify.stdout) \(verify.stderr)")
    }

    @Test("pause stops sending (the requests in flight are answered), resume goes on: every event once, in order")
    func pauseStopsSending() async throws {
        var faults = WebhookReceiver.Faults()
        faults.slowEvery = 1
        faults.slowDelay = .milliseconds(10)
        let receiver = try await WebhookReceiver.start(secret: EventReplayTests.secret, faults: faults, orderField: "account", sequenceField: "seq")
        defer { Task { await receiver.stop() } }
        let dir = try EventReplayTests.workspace(events: 600, accounts: 20, receiver: receiver, concurrency: 4)
        let process = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log", environment: EventReplayTests.environment)
        let pause = try await RunLifecycleTests.waitUntil(
            { receiver.tally.processed.count >= 100 || !process.isRunning }, then: { try Binary.runBlocking(["pause", "1"], in: dir, environment: [:]) })
        #expect(pause.status == 0, "\(pause.stderr)")
        // The event: the worker saw the pause.
        let paused = try await RunLifecycleTests.waitUntil({
            ((try? String(contentsOfFile: dir + "/run.log", encoding: .utf8)) ?? "").contains("run paused; waiting for resume") || !process.isRunning
        }, then: { receiver.tally.requests })
        #expect(process.isRunning)
        let status = try await Binary.run(["status", "1", "--json"], in: dir)
        #expect(status.stdout.contains("\"status\" : \"paused\""))
        // At most the requests in flight when the pause was seen, and those sent before the flow
        // heard of it (each after an answer to one in flight): 2 × concurrency.
        #expect(receiver.tally.requests <= paused + 2 * 4, "\(receiver.tally.requests - paused) requests sent while paused")
        #expect(receiver.tally.processed.count < 600)
        #expect(try await Binary.run(["resume", "1"], in: dir).status == 0)
        await Binary.wait(process)
        #expect(process.terminationStatus == 0)
        let tally = receiver.tally
        #expect(tally.processed.count == 600 && Set(tally.processed).count == 600)
        #expect(EventReplayTests.inOrder(tally, events: 600, accounts: 20))
    }

    @Test("--limit: the events read are all delivered and checkpointed before the run stops; the next run goes on from there")
    func limitDeliversWhatWasRead() async throws {
        let receiver = try await WebhookReceiver.start(secret: EventReplayTests.secret, orderField: "account", sequenceField: "seq")
        defer { Task { await receiver.stop() } }
        let dir = try EventReplayTests.workspace(events: 600, accounts: 12, receiver: receiver)
        let first = try await Binary.run(["run", "job.yaml", "--limit", "120", "--json"], in: dir, environment: EventReplayTests.environment)
        #expect(first.status == 0 || first.status == 4, "\(first.stderr.suffix(1500))")
        #expect(receiver.tally.processed.count == 120, "\(receiver.tally.processed.count) processed")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        let counters = try #require(report["counters"] as? [String: Any])
        #expect(counters["read"] as? Int == 120 && counters["inserted"] as? Int == 120, "checkpointed: \(counters)")
        let rest = try await Binary.run(["run", "job.yaml", "--json"], in: dir, environment: EventReplayTests.environment)
        #expect(rest.status == 0, "\(rest.stderr.suffix(1500))")
        let tally = receiver.tally
        #expect(tally.processed.count == 600 && Set(tally.processed).count == 600 && tally.redeliveries == 0)
        #expect(EventReplayTests.inOrder(tally, events: 600, accounts: 12))
    }
}
