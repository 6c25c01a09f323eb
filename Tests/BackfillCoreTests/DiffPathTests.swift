import BackfillCore
import BackfillTesting
import Foundation
import Logging
import Testing

/// The diff-first batch path (`DiffPath`, `BucketRangeDiffer`) against in-memory endpoints: only rows whose hashes
/// differ are read and written, the others count as unchanged without being shipped, a gap is read
/// directly, and a crash between a write and its checkpoint loses and doubles nothing.
@Suite struct DiffPathTests {
    static func runner(
        source: MemorySource, sink: MemorySink, state: InMemoryStateStore, batch: Int, sourceSide: MemoryWindowHashing? = nil
    ) async throws -> (Runner, RunRecord) {
        let job = try RunnerTests.job(rows: source.rows.count)
        var configuration = RunnerConfiguration(workers: 2, batchSize: batch)
        configuration.backoffBase = .milliseconds(10)
        let (run, _) = try await RunStarter(state: state).startOrResume(spec: job.spec) { try await source.plan(workers: 2) }
        let runner = Runner(
            job: job, source: source, sink: sink, state: state, configuration: configuration, logger: Logger(label: "test"),
            differ: BucketRangeDiffer(source: sourceSide ?? MemoryWindowHashing(source: source), target: MemoryWindowHashing(sink: sink)))
        return (runner, run)
    }

    @Test("damage in every bucket: after a window where most buckets differed, windows ask both sides for every row's hash at once, and exactly the stale rows ship")
    func denseDamageAsksForEveryRowAtOnce() async throws {
        let source = MemorySource(count: 1_000)
        let sink = MemorySink()
        sink.seed(source.rows.map { row in
            guard case .integer(let id) = row[0], id % 10 == 3 else { return row }
            return [row[0], .text("stale"), row[2]]
        })
        let sourceSide = MemoryWindowHashing(source: source)
        let (runner, run) = try await Self.runner(source: source, sink: sink, state: InMemoryStateStore(), batch: 100, sourceSide: sourceSide)
        let summary = try await runner.execute(run: run)
        #expect(summary.status == .completed && summary.balanced)
        #expect(summary.counters.updated == 100 && summary.counters.unchanged == 900 && summary.counters.shippedRows == 100)
        #expect(Set(sink.writes.keys) == Set(stride(from: Int64(3), through: 993, by: 10)))
        // Ten windows of 100 rows: the first of each worker may ask for bucket digests, the rest go direct.
        #expect(sourceSide.calls.digests <= 2 && sourceSide.calls.everyRow >= 8, "\(sourceSide.calls.digests) \(sourceSide.calls.everyRow)")
    }

    @Test func onlyDifferingRowsAreShippedAndWritten() async throws {
        let source = MemorySource(count: 1_000)
        let sink = MemorySink()
        // The target: rows 1–200 missing (a gap), row 500 stale, row 800 lost.
        sink.seed(source.rows.filter { row in
            guard case .integer(let id) = row[0] else { return false }
            return id > 200 && id != 800
        }.map { row in row[0] == .integer(500) ? [row[0], .text("stale"), row[2]] : row })
        let (runner, run) = try await Self.runner(source: source, sink: sink, state: InMemoryStateStore(), batch: 100)
        let summary = try await runner.execute(run: run)
        #expect(summary.status == .completed && summary.balanced)
        #expect(summary.counters.read == 1_000 && summary.counters.inserted == 201 && summary.counters.updated == 1)
        #expect(summary.counters.unchanged == 798)
        #expect(Set(sink.writes.keys) == Set((1...200).map(Int64.init) + [500, 800]), "only the differing rows were written")
        // The gap's batches are read whole (100 rows each); elsewhere only the two differing rows ship.
        #expect(summary.counters.shippedRows == 200 + 2)
        #expect(sink.rows.count == 1_000)
    }

    @Test func aCrashBetweenWriteAndCheckpointLosesAndDoublesNothing() async throws {
        let source = MemorySource(count: 600)
        let sink = MemorySink()
        sink.seed(source.rows.filter { row in
            guard case .integer(let id) = row[0] else { return false }
            return id % 10 != 3
        })
        let reached = AsyncStream<Void>.makeStream()
        let calls = Counter()
        let state = InMemoryStateStore(beforeCheckpoint: { _ in
            guard calls.increment() == 2 else { return }
            reached.continuation.yield()
            try await Task.sleep(for: .seconds(86_400))  // the process dies here
        })
        let (runner, run) = try await Self.runner(source: source, sink: sink, state: state, batch: 100)
        let crashed = Task { try await runner.execute(run: run) }
        var events = reached.stream.makeAsyncIterator()
        _ = await events.next()
        crashed.cancel()
        _ = try? await crashed.value
        let afterCrash = try #require(try await state.run(id: run.id))
        #expect(try await state.takeOver(runID: afterCrash.id, owner: "next-process", replacing: afterCrash.owner))
        let resumed = try await runner.execute(run: try #require(try await state.run(id: afterCrash.id)))
        #expect(resumed.status == .completed && resumed.balanced)
        #expect(resumed.counters.read == 600)
        #expect(resumed.counters.inserted + resumed.counters.unchanged == 600, "every row counted once")
        #expect(sink.rows.count == 600)
        #expect(sink.writes.values.allSatisfy { $0 == 1 }, "no row written twice: a written batch is found equal after the crash")
        #expect(sink.writes.count == 60)
    }
}
