import BackfillTesting
import Foundation
import Testing

/// SQLite → SQLite skips chunks already equal on both sides (`TableRangeComparer`: a probe of key
/// hashes, then count and checksum inside SQLite), so a rerun or a repair of sparse damage does not
/// scan equal chunks again.
@Suite(.timeLimit(.minutes(4)))
struct SQLiteEqualChunkTests {
    /// Chunks the debug log says were found equal without being read.
    static func skippedChunks(_ log: String) -> Int {
        log.split(separator: "\n").filter { $0.contains("chunk already equal on both sides; not read") }.count
    }

    @Test("a rerun reads no chunk; one changed row makes only its chunk read again, and is repaired")
    func equalChunksAreSkipped() async throws {
        let dir = try Fixtures.temporaryDirectory("sqlite-equal-chunks")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .integer, rows: 12_000)
        _ = try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try Fixtures.spec(kind: .integer, extra: "workers: 4").replacingOccurrences(of: "workers: 2\n", with: "")
            .write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let first = try await Binary.run(["run", "job.yaml", "--log-level", "debug"], in: dir)
        #expect(first.status == 0, "\(first.stderr.suffix(2000))")
        #expect(Self.skippedChunks(first.stderr) == 0, "every chunk of the damaged copy differs")
        let chunks = try Fixtures.integer(path: dir + "/.backfill/state.db", "SELECT count(*) FROM chunks WHERE run_id = 1")
        #expect(chunks >= 2)

        let rerun = try await Binary.run(["run", "job.yaml", "--log-level", "debug", "--json"], in: dir)
        #expect(rerun.status == 0, "\(rerun.stderr.suffix(2000))")
        #expect(Self.skippedChunks(rerun.stderr) == chunks, "\(rerun.stderr.suffix(3000))")
        #expect(rerun.stdout.contains("\"unchanged\" : 12000") || rerun.stdout.contains("\"unchanged\":12000"), "\(rerun.stdout)")

        try Fixtures.execute(path: dir + "/source.db", "UPDATE items SET name = 'moved on', updated_at = '2030-01-01T00:00:00Z' WHERE id = 11000")
        let repair = try await Binary.run(["run", "job.yaml", "--log-level", "debug", "--json"], in: dir)
        #expect(repair.status == 0, "\(repair.stderr.suffix(2000))")
        #expect(Self.skippedChunks(repair.stderr) == chunks - 1, "\(repair.stderr.suffix(3000))")
        #expect(repair.stdout.contains("\"updated\" : 1") || repair.stdout.contains("\"updated\":1"), "\(repair.stdout)")
        #expect(try Fixtures.text(path: dir + "/target.db", "SELECT name FROM items WHERE id = 11000") == "moved on")
    }
}
