import BackfillCore
import BackfillSQLite
import BackfillTesting
import Foundation
import Testing

/// Modes and refused rows, through the real runner on both write paths.
@Suite(.timeLimit(.minutes(2)))
struct WriteBehaviourTests {
    @Test("a row the target refuses is quarantined alone; the rest of its batch is written", arguments: WritePath.allCases)
    func refusedRowIsQuarantined(path: WritePath) async throws {
        let harness = try JobHarness(kind: .integer, rows: 2000, path: path)
        try Fixtures.execute(path: harness.targetPath, """
            DELETE FROM items WHERE id IN (1234, 1500);
            CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.id = 1234 BEGIN SELECT RAISE(ABORT, 'id 1234 is blocked'); END;
            """)
        let summary = try await harness.run()
        #expect(summary.status == .completed)
        #expect(summary.counters.quarantined == 1)
        #expect(summary.balanced)
        #expect(try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items WHERE id = 1500") == 1)
        #expect(try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items WHERE id = 1234") == 0)
        let store = try SQLiteStateStore(path: harness.statePath, create: false)
        let quarantined = try await store.quarantine(runID: summary.runID, limit: 10)
        #expect(quarantined.map(\.key) == [[.integer(1234)]])
        #expect(quarantined.first?.reason.contains("id 1234 is blocked") == true)
    }

    @Test("insert-missing inserts missing rows and never changes existing ones", arguments: WritePath.allCases)
    func insertMissing(path: WritePath) async throws {
        let harness = try JobHarness(kind: .text, rows: 1500, path: path)
        let stale = "SELECT count(*) FROM items WHERE updated_at = '2020-01-01T00:00:00Z'"
        let staleBefore = try Fixtures.integer(path: harness.targetPath, stale)
        let present = try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items")
        let summary = try await harness.run(mode: "insert-missing")
        #expect(staleBefore > 0)
        #expect(try Fixtures.integer(path: harness.targetPath, stale) == staleBefore)
        #expect(summary.counters.inserted == 1500 - present)
        #expect(summary.counters.updated == 0)
        #expect(summary.counters.skipped == staleBefore)
        #expect(summary.balanced)
    }

    @Test("update-existing updates differing rows and never inserts", arguments: WritePath.allCases)
    func updateExisting(path: WritePath) async throws {
        let harness = try JobHarness(kind: .composite, rows: 1500, path: path)
        let stale = "SELECT count(*) FROM items WHERE updated_at = '2020-01-01T00:00:00Z'"
        let staleBefore = try Fixtures.integer(path: harness.targetPath, stale)
        let present = try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items")
        let summary = try await harness.run(mode: "update-existing")
        #expect(try Fixtures.integer(path: harness.targetPath, stale) == 0)
        #expect(try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items") == present)
        #expect(summary.counters.updated == staleBefore)
        #expect(summary.counters.inserted == 0)
        #expect(summary.counters.skipped == 1500 - present)
        #expect(summary.balanced)
    }

    @Test("with batch.target-duration, batches grow while the target is fast", arguments: WritePath.allCases)
    func adaptiveBatchesGrow(path: WritePath) async throws {
        let harness = try JobHarness(kind: .integer, rows: 20_000, path: path)
        let summary = try await harness.run(extra: "")
        #expect(summary.counters.batches >= 40, "fixed batches of 500")
        let adaptive = try JobHarness(kind: .integer, rows: 20_000, path: path)
        let grown = try await adaptive.run(extra: "", batch: "{ size: 100, target-duration: 2s, min: 100, max: 5000 }")
        #expect(grown.status == .completed)
        #expect(grown.balanced)
        #expect(grown.counters.batches < 60, "batches of 100 would take 200")
        #expect(try adaptive.targetRows() == adaptive.sourceRows())
    }

    @Test("with batch.target-duration, a slow target makes batches shrink to the minimum")
    func adaptiveBatchesShrinkOnASlowTarget() async throws {
        let harness = try JobHarness(kind: .text, rows: 3000)
        var slow: FaultInjectingSink?
        let summary = try await harness.run(
            batch: "{ size: 800, target-duration: 20ms, min: 100, max: 800 }",
            sink: { sink in
                let wrapped = FaultInjectingSink(wrapping: sink, delay: .milliseconds(60))
                slow = wrapped
                return wrapped
            })
        #expect(summary.status == .completed)
        #expect(summary.balanced)
        let sizes = try #require(slow?.batchSizes)
        #expect(sizes.first == 800)
        #expect(sizes.contains(100), "halved on each slow batch down to the minimum: \(sizes)")
        #expect(try harness.targetRows() == harness.sourceRows())
    }
}
