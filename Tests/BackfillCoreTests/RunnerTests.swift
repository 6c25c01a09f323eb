import BackfillCore
import BackfillTesting
import Foundation
import Logging
import Synchronization
import Testing

/// The runner against an in-memory source, sink and state store, on a test clock: no database,
/// no sleeping — each test waits for the event it checks, or advances the clock.
@Suite struct RunnerTests {
    static func job(rows: Int, extra: String = "") throws -> ResolvedJob {
        let yaml = """
            name: memory
            source: { sqlite: source.db, table: items }
            target: { sqlite: target.db, table: items }
            key: [id]
            \(extra)
            """
        let spec = try SpecLoader.parse(yaml: yaml, file: "memory.yaml", baseDirectory: "/tmp", environment: [:]).spec
        return ResolvedJob(spec: spec, columns: ["id", "name", "amount"], targetColumns: MemorySource.table.columns)
    }

    struct Setup {
        let source: MemorySource
        let sink: MemorySink
        let state: InMemoryStateStore
        let runner: Runner
        let run: RunRecord
    }

    static func setup(
        rows: Int, batch: Int, workers: Int = 1, sink: MemorySink = MemorySink(), state: InMemoryStateStore = InMemoryStateStore(),
        configure: (inout RunnerConfiguration) -> Void = { _ in }
    ) async throws -> Setup {
        let source = MemorySource(count: rows)
        let job = try job(rows: rows)
        var configuration = RunnerConfiguration(workers: workers, batchSize: batch)
        configuration.backoffBase = .milliseconds(10)
        configure(&configuration)
        let (run, _) = try await RunStarter(state: state).startOrResume(spec: job.spec) { try await source.plan(workers: workers) }
        let runner = Runner(
            job: job, source: source, sink: sink, state: state, configuration: configuration, logger: Logger(label: "test"))
        return Setup(source: source, sink: sink, state: state, runner: runner, run: run)
    }

    /// Invariant 1: every checkpoint commits after the write of the rows it covers. Fails if the
    /// runner checkpointed first.
    @Test func eachCheckpointFollowsTheWriteOfItsRows() async throws {
        let log = OrderLog()
        let state = InMemoryStateStore(beforeCheckpoint: { log.append(.checkpointed(cursorKey: $0.cursor?.key.flatMap(Self.id))) })
        let setup = try await Self.setup(rows: 250, batch: 100, sink: MemorySink(log: log), state: state)
        let summary = try await setup.runner.execute(run: setup.run)
        #expect(summary.status == .completed)
        #expect(summary.stop == .completed)
        #expect(log.all == [
            .wrote(lastKey: 100, rows: 100), .checkpointed(cursorKey: 100), .wrote(lastKey: 200, rows: 100),
            .checkpointed(cursorKey: 200), .wrote(lastKey: 250, rows: 50), .checkpointed(cursorKey: 250),
        ])
    }

    /// A crash between a batch's write and its checkpoint: the rows are in the target but not
    /// counted; the resumed run writes that one batch again (finding it equal) and counts every
    /// row exactly once.
    @Test func aCrashBetweenWriteAndCheckpointRedoesOnlyThatBatch() async throws {
        let reached = AsyncStream<Void>.makeStream()
        let calls = Counter()
        let state = InMemoryStateStore(beforeCheckpoint: { _ in
            guard calls.increment() == 3 else { return }
            reached.continuation.yield()
            // The process dies here: nothing after this point of the execution happens.
            try await Task.sleep(for: .seconds(86_400))
        })
        let sink = MemorySink()
        let setup = try await Self.setup(rows: 500, batch: 100, sink: sink, state: state)
        let crashed = Task { try await setup.runner.execute(run: setup.run) }
        var events = reached.stream.makeAsyncIterator()
        _ = await events.next()
        crashed.cancel()
        await #expect(throws: CancellationError.self) { try await crashed.value }
        #expect(sink.rows.count == 300, "the third batch was written")
        let afterCrash = try #require(try await state.run(id: setup.run.id))
        #expect(afterCrash.status == .running, "a crash leaves the run as it was")
        #expect(afterCrash.counters.read == 200, "only two checkpoints committed")

        // The next process takes the run over: the crashed one's chunk goes back to pending, at its cursor.
        #expect(try await state.takeOver(runID: afterCrash.id, owner: "next-process", replacing: afterCrash.owner))
        let resumed = try await setup.runner.execute(run: try #require(try await state.run(id: afterCrash.id)))
        #expect(resumed.status == .completed)
        #expect(resumed.counters.read == 500)
        #expect(resumed.counters.inserted == 400)
        #expect(resumed.counters.unchanged == 100, "the third batch again, equal now")
        #expect(resumed.balanced)
        #expect(sink.rows.count == 500)
        #expect(sink.writes.values.allSatisfy { $0 == 1 }, "no row written twice")
    }

    /// A paused run holds its worker without a batch until resumed; the test waits for the
    /// worker to sleep on the clock (the event), then resumes and advances the clock.
    @Test func aPausedRunWaitsForResume() async throws {
        let clock = TestClock()
        let setup = try await Self.setup(rows: 300, batch: 100) { $0.clock = clock }
        _ = try await RunControl.change(state: setup.state, run: setup.run.id, to: .paused)
        let running = Task { try await setup.runner.execute(run: try #require(try await setup.state.run(id: setup.run.id))) }
        await clock.waitForSleepers(3)  // the sampler, the supervisor and the paused worker
        #expect(setup.sink.rows.isEmpty)
        #expect(try await RunControl.change(state: setup.state, run: setup.run.id, to: .running) == .running)
        clock.advance(by: .milliseconds(200))
        let summary = try await running.value
        #expect(summary.status == .completed)
        #expect(summary.counters.inserted == 300)
        #expect(try #require(try await setup.state.run(id: setup.run.id)).waits.paused >= 0.2)
    }

    /// 1,000 rows at 100 rows/s in batches of 100: the worker waits exactly one second before
    /// each batch on the test clock, so the run ends at 10 s of clock time.
    @Test func theRateLimitIsKeptExactly() async throws {
        let clock = TestClock()
        let setup = try await Self.setup(rows: 1_000, batch: 100) {
            $0.clock = clock
            $0.rowsPerSecond = 100
        }
        let running = Task { try await setup.runner.execute(run: setup.run) }
        let driver = Task { await Self.drive(clock, sleepers: 3) }
        let summary = try await running.value
        driver.cancel()
        #expect(summary.counters.inserted == 1_000)
        #expect(clock.elapsed == .seconds(10))
    }

    /// Transient failures are retried after a backoff slept on the clock, and counted.
    @Test func transientWriteFailuresAreRetriedAndCounted() async throws {
        let clock = TestClock()
        let setup = try await Self.setup(rows: 200, batch: 100, sink: MemorySink(transientFailures: 2)) { $0.clock = clock }
        let running = Task { try await setup.runner.execute(run: setup.run) }
        let driver = Task { await Self.drive(clock, sleepers: 3) }
        let summary = try await running.value
        driver.cancel()
        #expect(summary.status == .completed)
        #expect(summary.counters.retries == 2)
        #expect(summary.counters.inserted == 200)
    }

    /// `--limit`: the run stops with a typed reason, stays `planned`, and the next execution
    /// continues where it stopped.
    @Test func theLimitStopsWithATypedReasonAndTheNextRunContinues() async throws {
        let setup = try await Self.setup(rows: 300, batch: 100) { $0.limitRows = 150 }
        let first = try await setup.runner.execute(run: setup.run)
        #expect(first.stop == .limitReached(rows: 150))
        #expect(first.status == .planned)
        #expect(first.counters.read == 150)
        let job = try Self.job(rows: 300)
        let (again, resumed) = try await RunStarter(state: setup.state).startOrResume(spec: job.spec) { [] }
        #expect(resumed)
        let rest = Runner(
            job: job, source: setup.source, sink: setup.sink, state: setup.state,
            configuration: RunnerConfiguration(workers: 1, batchSize: 100), logger: Logger(label: "test"))
        let second = try await rest.execute(run: again)
        #expect(second.stop == .completed)
        #expect(second.counters.read == 300)
        #expect(setup.sink.rows.count == 300)
    }

    /// The error guard pauses the run, hands the chunk back and says why, typed.
    @Test func theErrorGuardPausesTheRun() async throws {
        let source = RefusingSource(count: 100, refused: Set(1...20))
        let state = InMemoryStateStore()
        let job = try Self.job(rows: 100)
        var configuration = RunnerConfiguration(workers: 1, batchSize: 10)
        configuration.maxErrorRate = 0.05
        let (run, _) = try await RunStarter(state: state).startOrResume(spec: job.spec) { try await source.plan(workers: 1) }
        let runner = Runner(
            job: job, source: source, sink: MemorySink(), state: state, configuration: configuration, logger: Logger(label: "test"))
        let summary = try await runner.execute(run: run)
        #expect(summary.status == .paused)
        guard case .errorGuard(let rate) = summary.stop else {
            Issue.record("stopped for \(String(describing: summary.stop))")
            return
        }
        #expect(rate > 0.05)
        #expect(summary.counters.quarantined > 0)
        #expect(summary.balanced)
        #expect(try await state.chunks(runID: run.id).allSatisfy { $0.status != .running }, "the chunk went back")
    }

    /// A stop signal (SIGTERM): the workers stop before their next batch and hand their chunks
    /// back; the run stays resumable.
    @Test func aSignalStopsBeforeTheNextBatch() async throws {
        let stop = StopSignal()
        let clock = TestClock()
        let setup = try await Self.setup(rows: 1_000, batch: 100) {
            $0.stop = stop
            $0.clock = clock
            $0.rowsPerSecond = 100
        }
        let running = Task { try await setup.runner.execute(run: setup.run) }
        await clock.waitForSleepers(3)  // the worker waits for its first batch's tokens
        await stop.set()
        clock.advance(by: .seconds(1))
        let summary = try await running.value
        #expect(summary.stop == .signal)
        #expect(summary.status == .running)
        #expect(summary.counters.read <= 100)
        #expect(try await setup.state.chunks(runID: setup.run.id).allSatisfy { $0.status == .pending })
    }

    /// Advances the clock whenever `sleepers` tasks sleep on it, until cancelled.
    static func drive(_ clock: TestClock, sleepers: Int) async {
        while !Task.isCancelled {
            await clock.waitForSleepers(sleepers)
            if Task.isCancelled { return }
            clock.advanceToNextDeadline()
            await Task.yield()
        }
    }

    static func id(_ key: [Value]) -> Int64? {
        if case .integer(let id) = key.first { return id }
        return nil
    }
}

/// A thread-safe counter for hooks.
final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}

/// A memory source whose rows with the given ids carry the name `refuse`, which `MemorySink` refuses.
struct RefusingSource: Source {
    let base: MemorySource
    let refused: Set<Int64>
    init(count: Int, refused: Set<Int64>) {
        self.base = MemorySource(count: count)
        self.refused = refused
    }
    var columns: [String] { base.columns }
    var valuesAreText: Bool { false }
    var isKeyOrdered: Bool { true }
    func describe() async throws -> TableDescription { try await base.describe() }
    func checkKey() async throws {}
    func plan(workers: Int) async throws -> [ChunkPlan] { try await base.plan(workers: workers) }
    func read(chunk: KeyRange, after cursor: Cursor?, limit: Int) async throws -> SourceBatch {
        var batch = try await base.read(chunk: chunk, after: cursor, limit: limit)
        batch.rows = batch.rows.map { row in
            guard case .integer(let id) = row[0], refused.contains(id) else { return row }
            return [row[0], .text("refuse"), row[2]]
        }
        return batch
    }
}
