import BackfillTesting
import Foundation
import Testing

/// The real binary and the real MariaDB server: `kill -9` mid-run and resume with every row
/// written once, `newer-wins` beside a live writer, and MySQL ↔ PostgreSQL in both directions.
@Suite(.serialized) struct MySQLCrashAndCrossEngineTests {
    /// A target whose triggers log the key of every row inserted or updated.
    static let writeLog = """
        CREATE TABLE writes (id BIGINT NOT NULL);
        CREATE TRIGGER log_insert AFTER INSERT ON items FOR EACH ROW INSERT INTO writes VALUES (NEW.id);
        CREATE TRIGGER log_update AFTER UPDATE ON items FOR EACH ROW INSERT INTO writes VALUES (NEW.id);
        """

    static func workspace(rows: Int, extra: String) async throws -> (dir: String, server: MariaDBFixture, database: String) {
        let server = try MySQLRunTests.server()
        let dir = try Fixtures.temporaryDirectory("mysql-crash")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .integer, rows: rows)
        let database = try await server.createDatabase("dst")
        try await server.sql(database, MySQLRunTests.ddl(.integer) + ";" + writeLog)
        let spec = Fixtures.spec(kind: .integer, extra: extra).replacingOccurrences(
            of: "target: { sqlite: target.db, table: items }", with: "target: { mysql: \"\(server.dsn(database))\", table: items }")
        try spec.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        return (dir, server, database)
    }

    @Test("kill -9 mid-run into MySQL, then run again: every row arrives, none is written twice, verify equal")
    func killAndResume() async throws {
        let (dir, server, database) = try await Self.workspace(rows: 30_000, extra: "limits: { rows-per-second: 10000 }")
        let process = try Binary.launch(["run", "job.yaml"], in: dir)
        try await RunLifecycleTests.killNine(process, state: dir + "/.backfill/state.db", onceRead: 6_000)
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(RunLifecycleTests.rowsRead(dir) < 30_000)
        let rerun = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("\"balanced\" : true"), "\(rerun.stdout)")
        #expect(try await server.sql(database, "SELECT COUNT(*) FROM items") == "30000")
        #expect(try await server.sql(database, "SELECT COUNT(*) - COUNT(DISTINCT id) FROM writes") == "0", "a row written twice")
        #expect(try await server.sql(database, "SELECT COUNT(*) FROM writes") == "30000")
        let verify = try await Binary.run(["verify", "job.yaml"], in: dir)
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("newer-wins beside a live writer on the MySQL target: no update the writer made is lost")
    func newerWinsWithLiveWriter() async throws {
        let (dir, server, database) = try await Self.workspace(rows: 20_000, extra: "limits: { rows-per-second: 20000 }")
        // The target holds every row, all stale: the run updates each one while the writer does too.
        try await server.sql(database, "INSERT INTO items SELECT seq, CONCAT('old ', seq), 0, 0, NULL, '2020-01-01T00:00:00Z' FROM seq_1_to_20000")
        let process = try Binary.launch(["run", "job.yaml"], in: dir)
        // The live application: 2,000 single-row updates with a newer version, spread over the keys.
        let updates = (0..<2_000).map { i in
            "UPDATE items SET note = 'live', updated_at = '2999-01-01T00:00:00Z' WHERE id = \((i * 7919) % 20_000 + 1);"
        }.joined(separator: "\n")
        try await server.sql(database, updates)
        await Binary.wait(process)
        #expect(process.terminationStatus == 0)
        #expect(try await server.sql(database, "SELECT COUNT(*) FROM items WHERE note = 'live'") == "2000", "an update of the writer was lost")
        #expect(try await server.sql(database, "SELECT COUNT(*) FROM items WHERE updated_at = '2020-01-01T00:00:00Z'") == "0")
    }

    @Test("PostgreSQL → MySQL and MySQL → PostgreSQL: integers, DECIMAL/numeric, text, bytes, dates, timestamps (timestamptz as UTC), booleans, JSON; verify equal both ways")
    func postgresAndMySQL() async throws {
        let mysql = try MySQLRunTests.server()
        guard let postgres = PostgresFixture.server else { throw FixtureError("no PostgreSQL server (run scripts/test.sh)") }
        let dir = try Fixtures.temporaryDirectory("mysql-pg")
        let pgSource = try await postgres.createDatabase("pgsrc")
        let pgTarget = try await postgres.createDatabase("pgdst")
        let myTarget = try await mysql.createDatabase("mydst")
        let mySource = try await mysql.createDatabase("mysrc")
        try await postgres.psql(pgSource, """
            CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), note text, data bytea, day date, at timestamp(6),
              paid boolean, ratio double precision, doc jsonb, seen timestamptz, stamp timestamptz);
            INSERT INTO orders SELECT g, CASE WHEN g % 11 = 0 THEN NULL ELSE g * 1.25 END, E'quote''s "x"\\t' || g, decode(md5(g::text), 'hex'),
              date '2024-01-01' + g, timestamp '2024-01-01 00:00:00' + g * interval '1.000001 second', g % 2 = 0, g / 3.0,
              jsonb_build_object('n', g), timestamptz '2024-03-10 01:30:00+05:30' + g * interval '1 hour 0.5 second',
              CASE WHEN g % 7 = 0 THEN NULL ELSE timestamptz '2023-10-29 01:30:00+01' + g * interval '1 minute' END
            FROM generate_series(1, 3000) g;
            """)
        try await mysql.sql(myTarget, """
            CREATE TABLE orders (id BIGINT PRIMARY KEY, amount DECIMAL(12,2), note TEXT, data VARBINARY(32), day DATE, at DATETIME(6),
              paid TINYINT(1), ratio DOUBLE, doc JSON, seen DATETIME(6), stamp TIMESTAMP(6) NULL);
            """)
        try await mysql.sql(mySource, """
            CREATE TABLE orders (id BIGINT PRIMARY KEY, amount DECIMAL(12,2), note TEXT, data VARBINARY(32), day DATE, at DATETIME(6),
              paid TINYINT(1), ratio DOUBLE, seen DATETIME(6));
            INSERT INTO orders SELECT seq, IF(seq % 11 = 0, NULL, seq * 1.25), CONCAT('n', seq), UNHEX(MD5(seq)),
              DATE('2024-01-01') + INTERVAL seq DAY, TIMESTAMP('2024-01-01') + INTERVAL seq * 1000001 MICROSECOND, seq % 2, seq / 3,
              TIMESTAMP('2024-03-09 20:00:00') + INTERVAL seq SECOND
            FROM seq_1_to_3000;
            """)
        try await postgres.psql(pgTarget, """
            CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), note text, data bytea, day date, at timestamp(6),
              paid boolean, ratio double precision, seen timestamptz);
            """)
        for (name, source, target) in [
            ("pg-to-mysql", "{ postgres: \"\(postgres.dsn(pgSource))\", table: orders }", "{ mysql: \"\(mysql.dsn(myTarget))\", table: orders }"),
            ("mysql-to-pg", "{ mysql: \"\(mysql.dsn(mySource))\", table: orders }", "{ postgres: \"\(postgres.dsn(pgTarget))\", table: orders }"),
        ] {
            try """
                name: \(name)
                source: \(source)
                target: \(target)
                key: [id]
                batch: { size: 400 }
                workers: 2
                """.write(toFile: dir + "/\(name).yaml", atomically: true, encoding: .utf8)
            let run = try await Binary.run(["run", "\(name).yaml", "--json"], in: dir)
            #expect(run.status == 0, "\(name): \(run.stderr)")
            #expect(MySQLRunTests.counter("inserted", in: run.stdout) == 3_000, "\(name): \(run.stdout)")
            let verify = try await Binary.run(["verify", "\(name).yaml"], in: dir)
            #expect(verify.status == 0, "\(name): \(verify.stdout)\n\(verify.stderr)")
            let again = try await Binary.run(["run", "\(name).yaml", "--json"], in: dir)
            #expect(MySQLRunTests.counter("unchanged", in: again.stdout) == 3_000, "\(name): \(again.stdout)")
        }
        // A timestamptz arrives as its instant in UTC: 01:30 at +05:30 is 20:00 UTC the day before.
        #expect(try await mysql.sql(myTarget, "SELECT CONCAT_WS('|', amount, note, HEX(data), day, at, paid, doc, seen, stamp) FROM orders WHERE id = 1")
            == "1.25|quote's \"x\"\t1|C4CA4238A0B923820DCC509A6F75849B|2024-01-02|2024-01-01 00:00:01.000001|0|{\"n\": 1}|2024-03-09 21:00:00.500000|2023-10-29 00:31:00.000000")
        #expect(try await mysql.sql(myTarget, "SELECT COUNT(*) FROM orders WHERE stamp IS NULL") == "428")
        #expect(try await postgres.psql(pgTarget, "SELECT concat_ws('|', amount, note, encode(data, 'hex'), day, at, paid, to_char(seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')) FROM orders WHERE id = 2")
            == "2.50|n2|c81e728d9d4c2f636f067f89cc14862c|2024-01-03|2024-01-01 00:00:02.000002|f|2024-03-09 20:00:02")
    }
}
