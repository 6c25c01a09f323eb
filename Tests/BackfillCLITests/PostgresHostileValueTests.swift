import BackfillTesting
import Foundation
import Testing

/// Invariant 7: a hostile value is only a value. Text with every character COPY, SQL and JSON
/// escape (tab, newline, carriage return, backslash, `\N`, both quotes, a statement terminator and
/// comment, combining marks, an emoji) goes through every write path — the SQLite attached
/// transfer, the SQLite row path, the PostgreSQL COPY merge, the PostgreSQL sink that commits the
/// checkpoint in its transaction, and PostgreSQL → SQLite — arrives exactly, and a rerun finds it
/// equal (the run's comparison is exact on it too).
@Suite(.serialized, .timeLimit(.minutes(8)))
struct PostgresHostileValueTests {
    static let hostile = "tab\there, new\nline, cr\r, back\\slash, \\N, quote\" ' ; DROP TABLE items; -- ünïcödé e\u{301} 🙂"

    /// The value as a SQLite string literal.
    static var sqliteLiteral: String { "'" + hostile.replacingOccurrences(of: "'", with: "''") + "'" }

    static func sqliteTable(_ path: String, rows: Bool, name: String = hostile) throws {
        let literal = "'" + name.replacingOccurrences(of: "'", with: "''") + "'"
        try Fixtures.execute(path: path, "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL)"
            + (rows ? "; INSERT INTO items VALUES (1, \(literal)), (2, 'plain')" : ""))
    }

    static func pgTable(_ server: PostgresFixture, _ database: String, rows: Bool) async throws {
        try await server.psql(database, "CREATE TABLE items(id bigint PRIMARY KEY, name text NOT NULL);"
            + (rows ? "INSERT INTO items VALUES (1, $h$\(hostile)$h$), (2, 'plain');" : ""))
    }

    static func job(_ dir: String, source: String, target: String, extra: String = "") throws {
        try """
            name: hostile
            source: { \(source), table: items }
            target: { \(target), table: items }
            key: [id]
            \(extra)
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
    }

    /// Runs the job twice: the first writes what `expected` says, the rerun finds both rows equal.
    static func runTwice(_ dir: String, path: String, expectWritten: Int = 2) async throws {
        let (first, report) = try await RunReport.run(in: dir)
        let written = try #require(report, "\(path): \(first.stderr)")
        #expect(written["inserted"] + written["updated"] == expectWritten, "\(path): \(first.stdout)")
        let (_, rerun) = try await RunReport.run(in: dir)
        #expect(rerun?["unchanged"] == 2, "\(path): the rerun found a difference in the hostile row")
    }

    @Test("invariant 7: a hostile text value through every write path arrives exactly and compares equal")
    func everyWritePath() async throws {
        guard let server = PostgresFixture.server else { throw FixtureError("no PostgreSQL server (run scripts/test.sh)") }

        // SQLite → SQLite, upsert: the attached transfer.
        let transfer = try Fixtures.temporaryDirectory("hostile-transfer")
        try Self.sqliteTable(transfer + "/source.db", rows: true)
        try Self.sqliteTable(transfer + "/target.db", rows: false)
        try Self.job(transfer, source: "sqlite: source.db", target: "sqlite: target.db")
        try await Self.runTwice(transfer, path: "SQLite attached transfer")
        #expect(try Fixtures.text(path: transfer + "/target.db", "SELECT name FROM items WHERE id = 1") == Self.hostile)

        // SQLite → SQLite, update-existing: the row path.
        let rowPath = try Fixtures.temporaryDirectory("hostile-rows")
        try Self.sqliteTable(rowPath + "/source.db", rows: true)
        try Self.sqliteTable(rowPath + "/target.db", rows: true, name: "old")
        try Self.job(rowPath, source: "sqlite: source.db", target: "sqlite: target.db", extra: "mode: update-existing")
        try await Self.runTwice(rowPath, path: "SQLite row path", expectWritten: 1)  // row 2 is equal already
        #expect(try Fixtures.text(path: rowPath + "/target.db", "SELECT name FROM items WHERE id = 1") == Self.hostile)

        // SQLite → PostgreSQL: COPY into a staging table, then the merge.
        let copy = try Fixtures.temporaryDirectory("hostile-copy")
        try Self.sqliteTable(copy + "/source.db", rows: true)
        let copyTarget = try await server.createDatabase("hostile")
        try await Self.pgTable(server, copyTarget, rows: false)
        try Self.job(copy, source: "sqlite: source.db", target: "postgres: \"\(server.dsn(copyTarget))\"")
        try await Self.runTwice(copy, path: "PostgreSQL COPY merge")
        #expect(try await server.psql(copyTarget, "SELECT name = $h$\(Self.hostile)$h$ FROM items WHERE id = 1") == "t")

        // PostgreSQL → PostgreSQL with the state store in the target: rows and checkpoint in one transaction.
        let sealed = try Fixtures.temporaryDirectory("hostile-sealed")
        let sealedSource = try await server.createDatabase("hostile")
        let sealedTarget = try await server.createDatabase("hostile")
        try await Self.pgTable(server, sealedSource, rows: true)
        try await Self.pgTable(server, sealedTarget, rows: false)
        try Self.job(
            sealed, source: "postgres: \"\(server.dsn(sealedSource))\"", target: "postgres: \"\(server.dsn(sealedTarget))\"",
            extra: "state: \"\(server.dsn(sealedTarget))\"")
        try await Self.runTwice(sealed, path: "PostgreSQL checkpointing sink")
        #expect(try await server.psql(sealedTarget, "SELECT name = $h$\(Self.hostile)$h$ FROM items WHERE id = 1") == "t")

        // PostgreSQL → SQLite: the PostgreSQL source's values through the SQLite sink.
        let back = try Fixtures.temporaryDirectory("hostile-back")
        try Self.sqliteTable(back + "/target.db", rows: false)
        try Self.job(back, source: "postgres: \"\(server.dsn(sealedSource))\"", target: "sqlite: target.db")
        try await Self.runTwice(back, path: "PostgreSQL → SQLite")
        #expect(try Fixtures.text(path: back + "/target.db", "SELECT name FROM items WHERE id = 1") == Self.hostile)
    }
}
