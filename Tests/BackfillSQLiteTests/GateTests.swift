import BackfillCore
import BackfillSQLite
import BackfillTesting
import Foundation
import Logging
import Testing

/// The pause file, the window and the throttle probe hold a real run back, and let it go on.
@Suite(.timeLimit(.minutes(2)))
struct GateTests {
    /// Starts the harness's job in a task and waits until the run says it waits for `reason`.
    static func startWaiting(
        _ harness: JobHarness, extra: String, clock: (any RunClock)? = nil, until reason: String
    ) async throws -> (Task<RunSummary, any Error>, SQLiteStateStore) {
        let store = try SQLiteStateStore(path: harness.statePath, create: true)
        let task = Task { try await harness.run(extra: extra, state: store, clock: clock) }
        for _ in 0..<200 {
            if let run = try await store.runs(limit: 1).first, run.reason?.contains(reason) == true {
                #expect(run.counters.read == 0)
                #expect(run.status == .running)
                return (task, store)
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        task.cancel()
        throw CancellationError()
    }

    @Test("a pause file holds the run before its first batch; removing it lets the run finish")
    func pauseFile() async throws {
        let harness = try JobHarness(kind: .integer, rows: 2000)
        FileManager.default.createFile(atPath: harness.directory + "/PAUSE", contents: nil)
        let clock = TestClock()
        let (task, store) = try await Self.startWaiting(harness, extra: "limits: { pause-file: PAUSE }", clock: clock, until: "pause file")
        // The sampler, the supervisor and every worker (one per chunk, at most two) sleep on the
        // test clock: then 400 ms pass with the file there.
        let run = try #require(try await store.runs(limit: 1).first)
        let sleepers = 2 + min(2, try await store.chunks(runID: run.id).count)
        await clock.waitForSleepers(sleepers)
        clock.advance(by: .milliseconds(400))
        await clock.waitForSleepers(sleepers)
        try FileManager.default.removeItem(atPath: harness.directory + "/PAUSE")
        clock.advance(by: .milliseconds(200))
        let summary = try await task.value
        #expect(summary.status == .completed)
        #expect(summary.counters.read == 2000)
        // The time held back is accounted as waiting, not as work: on the test clock no time
        // passed while batches ran.
        let finished = try #require(try await store.run(id: summary.runID))
        #expect(finished.waits.pauseFile >= 0.4)
        #expect(finished.waits.window == 0)
        #expect(finished.activeSeconds == 0)
        #expect(try harness.targetRows() == harness.sourceRows())
    }

    @Test("a wait before a batch (here the rate limit's 50 s) is slept in poll-interval slices: a cancel is seen within one, and the batch never starts")
    func cancelCutsThePaceShort() async throws {
        let harness = try JobHarness(kind: .integer, rows: 2000)
        let clock = TestClock()
        let store = try SQLiteStateStore(path: harness.statePath, create: true)
        let task = Task { try await harness.run(extra: "limits: { rows-per-second: 10 }", state: store, clock: clock) }
        // The event: the sampler, the supervisor and every worker (one per chunk, at most two) sleep
        // on the test clock — the workers before their first batch, paced by the rate.
        var sleepers = 0
        while sleepers == 0 {
            if let run = try await store.runs(limit: 1).first { sleepers = 2 + min(2, try await store.chunks(runID: run.id).count) }
            await Task.yield()
        }
        await clock.waitForSleepers(sleepers)
        let run = try #require(try await store.runs(limit: 1).first)
        #expect(run.counters.read == 0)
        try await store.setStatus(runID: run.id, .cancelled, reason: "test")
        clock.advance(by: .milliseconds(200))
        let summary = try await task.value
        #expect(summary.status == .cancelled)
        #expect(summary.counters.read == 0, "the paced batch did not start")
        #expect(clock.elapsed == .milliseconds(200), "one poll interval, not the 50 s the rate asked for")
        let held = try #require(try await store.run(id: run.id)).waits.held["rows-per-second"] ?? 0
        #expect(held >= 0.2, "the slice slept counts for the rate: \(held)")
    }

    @Test("outside the window the run waits and says until when; cancel stops it")
    func window() async throws {
        let harness = try JobHarness(kind: .text, rows: 500)
        let night = ISO8601DateFormatter().date(from: "2026-11-25T12:00:00Z")!
        let (task, store) = try await Self.startWaiting(
            harness, extra: "window: { hours: \"01:00-05:00\", timezone: UTC }", clock: FixedDateClock(date: { night }),
            until: "outside the window")
        let run = try #require(try await store.runs(limit: 1).first)
        #expect(run.reason?.contains("it opens at 2026-11-26T01:00:00Z") == true)
        try await store.setStatus(runID: run.id, .cancelled, reason: "test")
        let summary = try await task.value
        #expect(summary.status == .cancelled)
        #expect(summary.counters.read == 0)
        let waited = try #require(try await store.run(id: run.id))
        #expect(waited.waits.window > 0)
        #expect(waited.waits.total == waited.waits.window)
    }

    @Test("above the throttle threshold the run waits; below it, it goes on")
    func throttle() async throws {
        let harness = try JobHarness(kind: .composite, rows: 1000)
        try Fixtures.execute(path: harness.sourcePath, "CREATE TABLE health (lag REAL); INSERT INTO health VALUES (12.5)")
        let (task, _) = try await Self.startWaiting(
            harness, extra: "throttle: { query: \"SELECT lag FROM health\", max: 5, every: 50ms }", until: "throttled")
        try Fixtures.execute(path: harness.sourcePath, "UPDATE health SET lag = 0.5")
        let summary = try await task.value
        #expect(summary.status == .completed)
        #expect(try harness.targetRows() == harness.sourceRows())
    }

    @Test("a target that is down opens the circuit: no calls during the cool-down, then the run finishes")
    func circuitBreaker() async throws {
        let harness = try JobHarness(kind: .integer, rows: 600)
        var fault: FaultInjectingSink?
        let summary = try await harness.run(
            extra: "limits: { retries: 6, backoff: 10ms, circuit: { failures: 2, cool-down: 300ms } }",
            sink: { sink in
                let wrapped = FaultInjectingSink(wrapping: sink, failures: 3)
                fault = wrapped
                return wrapped
            })
        #expect(summary.status == .completed)
        #expect(try harness.targetRows() == harness.sourceRows())
        let calls = try #require(fault?.calls)
        #expect(calls.count >= 4)
        // Failures 1 and 2 open the circuit; the third call (the probe) waits out the cool-down.
        #expect(calls[1].duration(to: calls[2]) >= .milliseconds(290))
        let store = try SQLiteStateStore(path: harness.statePath, create: false)
        let events = try await store.events(runID: summary.runID)
        #expect(events.contains { $0.kind == "circuit-open" && $0.message.contains("circuit open for the target") })
        #expect(summary.counters.retries == 3)
    }
}
