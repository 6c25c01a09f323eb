import BackfillTesting
import Foundation
import Testing

/// Invariant 5 and the demo, through the real binary.
@Suite(.timeLimit(.minutes(5)))
struct MemoryAndDemoTests {
    struct Summary: Decodable {
        var peakResidentBytes: Int
        var counters: Counters
        struct Counters: Decodable { var read: Int }
    }

    /// Peak RSS of `backfill run` over a source of `rows` rows (SQLite, or a CSV export of it).
    static func peakRSS(kind: KeyKind, rows: Int, csv: Bool) async throws -> Int {
        let dir = try Fixtures.temporaryDirectory("memory-\(kind)")
        try Fixtures.makeSource(path: dir + "/source.db", kind: kind, rows: rows)
        try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        var spec = Fixtures.spec(kind: kind)
        if csv {
            try Fixtures.exportCSV(from: dir + "/source.db", to: dir + "/export.csv")
            spec = spec.replacingOccurrences(of: "sqlite: source.db, table: items", with: "csv: export.csv")
        }
        try spec.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let result = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONDecoder().decode(Summary.self, from: Data(result.stdout.utf8))
        #expect(summary.counters.read == rows)
        try? FileManager.default.removeItem(atPath: dir)
        return summary.peakResidentBytes
    }

    @Test("invariant 5: memory is bounded by workers × batch size, not by the table size", arguments: KeyKind.allCases, [false, true])
    func invariant5MemoryIsBounded(kind: KeyKind, csv: Bool) async throws {
        let small = try await Self.peakRSS(kind: kind, rows: 20_000, csv: csv)
        let large = try await Self.peakRSS(kind: kind, rows: 80_000, csv: csv)
        // 4× the rows: caches (SQLite pages, statements, malloc arenas) may still settle by a fifth;
        // a file run also keeps one key hash per row for duplicate detection (16 bytes a row, budgeted).
        let allowance = small / 5 + (csv ? 16 * 80_000 : 0)
        #expect(large <= small + allowance, "peak RSS \(small >> 20) MB at 20k rows, \(large >> 20) MB at 80k rows")
    }

    @Test("demo: builds, damages, dry-runs, backfills and proves the replica equals the primary")
    func demo() async throws {
        let dir = try Fixtures.temporaryDirectory("demo")
        let result = try await Binary.run(["demo", "--dir", dir, "--rows", "20000"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Dry run"))
        #expect(result.stdout.contains("read = inserted + updated + unchanged + skipped + quarantined: holds"))
        #expect(result.stdout.contains("EQUAL: the replica now equals the primary."))
        let rerun = try await Binary.run(["run", "backfill.yaml", "--json"], in: dir)
        #expect(rerun.status == 0)
        #expect(rerun.stdout.contains("\"inserted\" : 0"))
        #expect(rerun.stdout.contains("\"updated\" : 0"))
    }
}
