import BackfillCore
import BackfillSQLite
import BackfillTesting
import Foundation
import Testing

/// DESIGN's invariants through the real runner, SQLite files and the SQLite state store,
/// for integer, text and composite keys.
@Suite(.timeLimit(.minutes(2)))
struct InvariantTests {
    @Test("invariant 4: every row read is inserted, updated, unchanged, skipped or quarantined", arguments: KeyKind.allCases, WritePath.allCases)
    func invariant4EveryRowAccountedFor(kind: KeyKind, path: WritePath) async throws {
        let harness = try JobHarness(kind: kind, rows: 3000, path: path)
        let damaged = try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items")
        let summary = try await harness.run()
        #expect(summary.status == .completed)
        #expect(summary.counters.read == 3000)
        #expect(summary.balanced)
        #expect(summary.counters.inserted == 3000 - damaged)
        #expect(summary.counters.updated > 0)
        #expect(summary.counters.quarantined == 0)
        #expect(try harness.targetRows() == harness.sourceRows())
    }

    @Test("invariant 2: rerunning a finished job against an unchanged source writes nothing", arguments: KeyKind.allCases, WritePath.allCases)
    func invariant2RerunWritesNothing(kind: KeyKind, path: WritePath) async throws {
        let harness = try JobHarness(kind: kind, rows: 2000, path: path)
        _ = try await harness.run()
        try Fixtures.installWriteCounter(path: harness.targetPath)
        let rerun = try await harness.run()
        #expect(rerun.runID != 0)
        #expect(rerun.counters.read == 2000)
        #expect(rerun.counters.unchanged == 2000)
        #expect(rerun.counters.inserted + rerun.counters.updated == 0)
        #expect(try Fixtures.integer(path: harness.targetPath, "SELECT n FROM write_count") == 0)
    }

    @Test("invariant 1: a checkpoint never runs ahead of committed writes", arguments: KeyKind.allCases, WritePath.allCases)
    func invariant1CheckpointAfterCommit(kind: KeyKind, path: WritePath) async throws {
        let harness = try JobHarness(kind: kind, rows: 4000, path: path)
        let store = try SQLiteStateStore(path: harness.statePath, create: true)
        // Stop after a partial run, then check that every row up to each chunk's cursor is in the target.
        let partial = try await harness.run(limit: 1700, state: store)
        #expect(partial.status == .planned)
        #expect(partial.counters.read == 1700)
        let chunks = try await store.chunks(runID: partial.runID)
        let source = try SQLiteSource(path: harness.sourcePath, table: "items", key: kind.keyColumns)
            .selecting(kind.keyColumns + ["name", "amount", "price", "note", "updated_at"])
        let target = try SQLiteSource(path: harness.targetPath, table: "items", key: kind.keyColumns)
            .selecting(kind.keyColumns + ["name", "amount", "price", "note", "updated_at"])
        for chunk in chunks {
            guard let cursor = chunk.cursor?.key else { continue }
            let upTo = KeyRange(lower: chunk.range.lower, upper: nil)
            let expected = try await source.read(chunk: upTo, after: nil, limit: 100_000).rows.filter { KeyOrder.compare(Array($0.prefix(cursor.count)), cursor) <= 0 }
            let actual = try await target.read(chunk: upTo, after: nil, limit: 100_000).rows.filter { KeyOrder.compare(Array($0.prefix(cursor.count)), cursor) <= 0 }
            #expect(actual == expected, "chunk \(chunk.index) has rows up to its cursor that were not written")
        }
        let finished = try await harness.run(state: store)
        #expect(finished.runID == partial.runID)
        #expect(finished.status == .completed)
        #expect(finished.counters.read == 4000)
        #expect(finished.balanced)
        #expect(try harness.targetRows() == harness.sourceRows())
    }

    @Test("invariant 3: newer-wins never replaces a newer target row; the source wins on equal versions", arguments: KeyKind.allCases, WritePath.allCases)
    func invariant3NewerWins(kind: KeyKind, path: WritePath) async throws {
        let harness = try JobHarness(kind: kind, rows: 1000, path: path)
        try Fixtures.execute(path: harness.targetPath, """
            UPDATE items SET amount = -1, updated_at = '2099-01-01T00:00:00Z' WHERE rowid IN (SELECT rowid FROM items ORDER BY rowid LIMIT 5);
            UPDATE items SET amount = -2 WHERE rowid IN (SELECT rowid FROM items ORDER BY rowid DESC LIMIT 3);
            """)
        let summary = try await harness.run()
        #expect(summary.counters.skipped == 5)
        #expect(try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items WHERE amount = -1") == 5)
        #expect(try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items WHERE amount = -2") == 0)
        #expect(summary.balanced)
    }
}
