import BackfillTesting
import Foundation
import Testing

/// SQLite ↔ PostgreSQL ships only the rows that differ: both engines hash each row's canonical
/// encoding inside themselves (SQLite in the process, PostgreSQL in SQL), so equal chunks are
/// skipped and, per batch, only the keys whose hashes differ are read from the source and written.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresCrossEngineDiffTests {
    static let sqliteSource = """
        CREATE TABLE events(id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT, amount REAL,
          flag INTEGER, data BLOB, ref TEXT, day TEXT, ratio REAL, created_at TEXT NOT NULL);
        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 6000)
        INSERT INTO events SELECT n, n % 97, CASE n % 3 WHEN 0 THEN 'a' || char(9) || 'b' WHEN 1 THEN 'caf' || char(233) ELSE '' END,
          CASE WHEN n % 13 = 0 THEN NULL ELSE '{"n": ' || n || ',  "s": "x"}' END,
          CASE WHEN n % 11 = 0 THEN NULL ELSE n * 1.25 END, n % 2, CASE WHEN n % 5 = 0 THEN NULL ELSE randomblob(4) END,
          CASE n % 2 WHEN 0 THEN '6ba7b810-9dad-11d1-80b4-' ELSE '6BA7B810-9DAD-11D1-80B4-' END || printf('%012d', n),
          '2024-02-' || printf('%02d', 1 + n % 28), n / 3.0,
          CASE n % 3 WHEN 0 THEN '2024-01-01T00:00:00Z' WHEN 1 THEN '2024-01-01 02:00:0' || (n % 10) || '.5+02:00'
            ELSE '2023-12-31 19:00:00-05' END
        FROM g;
        """

    static let postgresTarget = """
        CREATE TABLE events(id bigint PRIMARY KEY, account_id integer NOT NULL, kind text NOT NULL, payload json,
          amount numeric(12,2), flag boolean, data bytea, ref uuid, day date, ratio double precision, created_at timestamptz NOT NULL);
        """

    @Test("SQLite → PostgreSQL: after a first load, gaps at the start, middle and end and three changed rows deep in the table are all that is shipped and written; the rerun ships nothing")
    func sqliteToPostgres() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("cross-diff-to-pg")
        try Fixtures.execute(path: dir + "/source.db", Self.sqliteSource)
        let target = try await server.createDatabase("dst")
        try await server.psql(target, Self.postgresTarget)
        try """
            name: to-postgres
            source: { sqlite: source.db, table: events }
            target: { postgres: "\(server.dsn(target))", table: events }
            key: [id]
            batch: { size: 500 }
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let plan = try await Binary.run(["plan", "job.yaml", "--json"], in: dir)
        #expect(plan.stdout.contains("\"hash-diff\"") && plan.stdout.contains("\"chunk-comparison\""), "\(plan.stdout.suffix(600))")
        let (load, loaded) = try await RunReport.run(in: dir)
        #expect(load.status == 0 && loaded?["inserted"] == 6_000, "\(load.stderr.suffix(2000))")

        try await server.psql(target, """
            DELETE FROM events WHERE id <= 300 OR id BETWEEN 3001 AND 3200 OR id > 5800;
            UPDATE events SET ratio = ratio + 1e-9 WHERE id = 4444;
            UPDATE events SET created_at = created_at + interval '1 microsecond' WHERE id = 1234;
            UPDATE events SET payload = NULL WHERE id = 2222;
            """)
        let (result, report) = try await RunReport.run(in: dir, ["--log-level", "debug", "--log-format", "json"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let counts = try #require(report)
        #expect(counts["read"] == 6_000 && counts["inserted"] == 700 && counts["updated"] == 3 && counts["unchanged"] == 5_297, "\(counts.counters)")
        #expect(counts.balanced)
        let shipping = PostgresDiffFirstTests.Shipping(log: result.stderr)
        #expect(shipping.hashBatches > 5, "\(shipping)")
        #expect(shipping.byHash + shipping.direct >= 703 && shipping.byHash + shipping.direct <= 703 + 6 * 500, "\(shipping)")
        #expect(counts["shippedRows"] == shipping.byHash + shipping.direct, "\(shipping)")

        let (again, rerun) = try await RunReport.run(in: dir)
        #expect(again.status == 0 && rerun?["unchanged"] == 6_000 && rerun?["shippedRows"] == 0, "\(again.stderr.suffix(2000))")
        // verify across engines skips the chunks both engines hash alike: no row is read one by one.
        let verify = try await Binary.run(["verify", "job.yaml", "--json"], in: dir)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let verified = try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [String: Any]
        #expect(verified?["rangesListed"] as? Int == 0 && verified?["sourceRows"] as? Int == 6_000, "\(verify.stdout.prefix(600))")
        // One row changed behind the run: verify reads only its chunk row by row, and names it.
        try await server.psql(target, "UPDATE events SET kind = 'changed' WHERE id = 5000")
        let found = try await Binary.run(["verify", "job.yaml", "--json"], in: dir)
        #expect(found.status == 3 && found.stdout.contains("5000"), "\(found.stdout.prefix(600))")
    }

    @Test("PostgreSQL → SQLite on a composite text and integer key: exactly the damaged rows are written, and the rerun ships nothing")
    func postgresToSQLite() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("cross-diff-to-sqlite")
        let source = try await server.createDatabase("src")
        try await server.psql(source, """
            CREATE TABLE items(team text NOT NULL, n integer NOT NULL, kind text, ratio double precision, whole double precision,
              flag boolean, data bytea, ref uuid, amount numeric, at timestamptz, small integer, price numeric(12,2), PRIMARY KEY (team, n));
            INSERT INTO items SELECT 'team ' || (g % 7) || CASE WHEN g % 2 = 0 THEN ' A' ELSE ' a' END, g,
              CASE WHEN g % 9 = 0 THEN NULL ELSE E'x\\ty ' || g END, g / 7.0, (g % 50)::float8, g % 3 = 0,
              decode(md5(g::text), 'hex'), md5(g::text)::uuid, g * 1.50, timestamptz '2024-01-01 00:00:00+00' + g * interval '1.5 second',
              g % 1000, CASE WHEN g % 17 = 0 THEN NULL ELSE g * 0.25 END
            FROM generate_series(1, 4000) g;
            """)
        try Fixtures.execute(path: dir + "/target.db", """
            CREATE TABLE items(team TEXT NOT NULL, n INTEGER NOT NULL, kind TEXT, ratio REAL, whole INTEGER, flag INTEGER, data BLOB,
              ref TEXT, amount TEXT, at TEXT, small REAL, price NUMERIC, PRIMARY KEY (team, n));
            """)
        try """
            name: to-sqlite
            source: { postgres: "\(server.dsn(source))", table: items }
            target: { sqlite: target.db, table: items }
            key: [team, n]
            batch: { size: 400 }
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let plan = try await Binary.run(["plan", "job.yaml", "--json"], in: dir)
        #expect(plan.stdout.contains("\"hash-diff\""), "\(plan.stdout.suffix(600))")
        let (load, loaded) = try await RunReport.run(in: dir)
        #expect(load.status == 0 && loaded?["inserted"] == 4_000, "\(load.stderr.suffix(2000))")
        #expect(try Fixtures.text(path: dir + "/target.db", "SELECT typeof(whole) || typeof(small) || typeof(price) FROM items WHERE n = 3") == "integerrealreal")

        try Fixtures.execute(path: dir + "/target.db", """
            DELETE FROM items WHERE n % 97 = 5;
            UPDATE items SET ratio = ratio + 1e-12 WHERE n = 2500;
            UPDATE items SET whole = whole + 0.5 WHERE n = 1000;
            UPDATE items SET kind = 'X' || substr(kind, 2) WHERE n = 10;
            UPDATE items SET price = price + 0.25 WHERE n = 3333;
            """)
        let deleted = try Fixtures.integer(path: dir + "/target.db", "SELECT 4000 - count(*) FROM items")
        let (result, report) = try await RunReport.run(in: dir, ["--log-level", "debug", "--log-format", "json"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let counts = try #require(report)
        #expect(counts["inserted"] == deleted && counts["updated"] == 4 && counts["unchanged"] == 4_000 - deleted - 4, "\(counts.counters)")
        #expect(counts.balanced)
        let shipping = PostgresDiffFirstTests.Shipping(log: result.stderr)
        #expect(shipping.hashBatches > 5 && counts["shippedRows"] == shipping.byHash + shipping.direct, "\(shipping)")
        #expect(counts["shippedRows"] < 4_000 / 2, "most rows were settled by hash: \(shipping)")

        let (again, rerun) = try await RunReport.run(in: dir)
        #expect(again.status == 0 && rerun?["unchanged"] == 4_000 && rerun?["shippedRows"] == 0, "\(again.stderr.suffix(2000))")
    }

    @Test("where a column has no canonical form in SQL, plan says which and why every row is read")
    func rowPathExplained() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("cross-diff-why")
        try Fixtures.execute(
            path: dir + "/source.db", "CREATE TABLE t(id INTEGER PRIMARY KEY, doc TEXT, ratio TEXT); INSERT INTO t VALUES (1, '{}', '0.5');")
        let database = try await server.createDatabase("dst")
        try await server.psql(database, "CREATE TABLE t(id bigint PRIMARY KEY, doc jsonb, ratio float8); INSERT INTO t VALUES (1, '{}', 0.5);")
        try """
            name: jsonb
            source: { sqlite: source.db, table: t }
            target: { postgres: "\(server.dsn(database))", table: t }
            key: [id]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let into = try await Binary.run(["plan", "job.yaml"], in: dir)
        #expect(into.status == 0 && into.stdout.contains("column 'doc' is jsonb"), "\(into.stdout)")
        try """
            name: numeric
            source: { postgres: "\(server.dsn(database))", table: t }
            target: { sqlite: source.db, table: t }
            key: [id]
            columns: [id, ratio]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let from = try await Binary.run(["plan", "job.yaml"], in: dir)
        #expect(from.status == 0 && from.stdout.contains("column 'ratio' (double precision into a SQLite text column)"), "\(from.stdout)")
    }

    @Test("SQLite → PostgreSQL, kill -9 mid-descent, then run again: the target equals the source and every damaged row was written once")
    func killNineMidDescent() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("cross-diff-kill")
        try Fixtures.execute(path: dir + "/source.db", """
            CREATE TABLE events(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, amount REAL, created_at TEXT NOT NULL);
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 40000)
            INSERT INTO events SELECT n, 'k' || (n % 7), n * 0.5, '2024-01-01 00:00:00+00' FROM g;
            """)
        let target = try await server.createDatabase("dst")
        try await server.psql(target, "CREATE TABLE events(id bigint PRIMARY KEY, kind text NOT NULL, amount float8, created_at timestamptz NOT NULL);")
        let spec = { (extra: String) in
            """
            name: kill
            source: { sqlite: source.db, table: events }
            target: { postgres: "\(server.dsn(target))", table: events }
            key: [id]
            batch: { size: 500 }
            workers: 2
            \(extra)
            """
        }
        try spec("").write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let (load, _) = try await RunReport.run(in: dir)
        #expect(load.status == 0, "\(load.stderr.suffix(2000))")
        // Scattered damage the descent finds batch by batch: 10% lost, 10% stale.
        try await server.psql(target, """
            DELETE FROM events WHERE id % 10 = 3;
            UPDATE events SET amount = amount + 1 WHERE id % 10 = 7;
            CREATE TABLE writes(id bigint NOT NULL);
            CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO writes VALUES (NEW.id); RETURN NEW; END $$;
            CREATE TRIGGER log_write AFTER INSERT OR UPDATE ON events FOR EACH ROW EXECUTE FUNCTION log_write();
            """)
        try FileManager.default.removeItem(atPath: dir + "/.backfill")
        try spec("limits: { rows-per-second: 8000 }").write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let process = try Binary.launch(["run", "job.yaml"], in: dir)
        let state = dir + "/.backfill/state.db"
        try await RunLifecycleTests.killNine(process, state: state, onceRead: 8_000)
        #expect(process.terminationReason == .uncaughtSignal)
        let partial = try await server.psql(target, "SELECT count(*) FROM writes")
        #expect(Int(partial)! < 8_000)

        try spec("").write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let (result, _) = try await RunReport.run(in: dir)
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        #expect(try await server.psql(target, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes") == "8000,8000")
        let verify = try await Binary.run(["verify", "job.yaml"], in: dir)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
