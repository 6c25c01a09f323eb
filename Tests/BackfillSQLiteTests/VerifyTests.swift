import BackfillCore
import BackfillSQLite
import BackfillTesting
import Foundation
import Testing

/// `Verifier` over real SQLite files: every injected difference is found, nothing else is reported.
@Suite(.timeLimit(.minutes(2)))
struct VerifyTests {
    static func verify(_ harness: JobHarness, leafRows: Int = 50) async throws -> VerifyReport {
        let loaded = try harness.loadSpec()
        let spec = loaded.spec
        let source = try SQLiteSource(path: harness.sourcePath, table: "items", key: spec.key)
        let target = try SQLiteSource(path: harness.targetPath, table: "items", key: spec.key)
        let job = try SpecChecker.resolve(loaded, source: try await source.describe(), target: try await target.describe())
        var verifier = Verifier(job: job, source: source.selecting(job.columns), target: target.selecting(job.columns))
        verifier.leafRows = leafRows
        return try await verifier.verify(chunks: try await source.selecting(job.columns).plan(workers: 2))
    }

    @Test("equal tables verify equal", arguments: KeyKind.allCases)
    func equalTables(kind: KeyKind) async throws {
        let harness = try JobHarness(kind: kind, rows: 5000)
        _ = try await harness.run()
        let report = try await Self.verify(harness)
        #expect(report.equal)
        #expect(report.sourceRows == 5000 && report.targetRows == 5000)
        #expect(report.differences.isEmpty)
        #expect(report.rangesListed == 0, "equal ranges are settled by checksum alone")
    }

    @Test("missing, extra, changed column, NULL↔value, changed key and newer rows are each found", arguments: KeyKind.allCases)
    func everyKindOfDifference(kind: KeyKind) async throws {
        let harness = try JobHarness(kind: kind, rows: 5000)
        _ = try await harness.run()
        // Rows are picked by their rank in key order (rowids differ after the backfill's inserts).
        let order = kind.keyColumns.joined(separator: ", ")
        func row(_ rank: Int) -> String { "rowid = (SELECT rowid FROM items ORDER BY \(order) LIMIT 1 OFFSET \(rank))" }
        try Fixtures.execute(path: harness.targetPath, """
            UPDATE items SET amount = amount + 1 WHERE \(row(1000));
            UPDATE items SET note = NULL WHERE \(row(2001));
            UPDATE items SET note = 'was null' WHERE \(row(2999));
            UPDATE items SET name = 'newer', updated_at = '2099-01-01T00:00:00Z' WHERE \(row(4000));
            UPDATE items SET id = \(kind == .text ? "'zz-moved'" : "900000") WHERE \(row(4500));
            DELETE FROM items WHERE \(row(100));
            """)
        let report = try await Self.verify(harness)
        #expect(report.missing == 2)
        #expect(report.extra == 1)
        #expect(report.different == 3)
        #expect(report.newerInTarget == 1)
        #expect(!report.equal)
        let columns = Set(report.differences.filter { $0.kind == .different }.flatMap(\.columns))
        #expect(columns == ["amount", "note"])
        #expect(report.differences.count == 7)
    }

    @Test("damage spread over the table is streamed page by page and still counted exactly", arguments: KeyKind.allCases)
    func spreadDamage(kind: KeyKind) async throws {
        let harness = try JobHarness(kind: kind, rows: 6000)
        _ = try await harness.run()
        let order = kind.keyColumns.joined(separator: ", ")
        try Fixtures.execute(path: harness.targetPath, """
            CREATE TEMP TABLE ranked AS SELECT rowid AS r, row_number() OVER (ORDER BY \(order)) AS n FROM items;
            UPDATE items SET amount = amount + 1 WHERE rowid IN (SELECT r FROM ranked WHERE n % 10 = 3);
            DELETE FROM items WHERE rowid IN (SELECT r FROM ranked WHERE n % 17 = 5);
            """)
        let changed = 600 - (1...6000).filter { $0 % 10 == 3 && $0 % 17 == 5 }.count
        let deleted = (1...6000).filter { $0 % 17 == 5 }.count
        let report = try await Self.verify(harness, leafRows: 100)
        #expect(report.different == changed)
        #expect(report.missing == deleted)
        #expect(report.extra == 0)
        #expect(report.rangesListed < 20, "spread damage is streamed, not bisected to every leaf")
    }
}
