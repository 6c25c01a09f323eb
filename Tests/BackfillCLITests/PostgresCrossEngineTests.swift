import BackfillTesting
import Foundation
import Testing

/// SQLite → PostgreSQL, PostgreSQL → SQLite and CSV → PostgreSQL with type mapping, and the
/// clear errors for what cannot be mapped or reached.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresCrossEngineTests {
    static let sqliteDDL = """
        CREATE TABLE events(id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT,
          amount NUMERIC, flag INTEGER, data BLOB, tags TEXT, ref TEXT, day TEXT, ratio REAL,
          created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        """

    @Test("SQLite → PostgreSQL: integers, text, JSON, numeric, booleans, blobs, arrays, uuid, dates and timestamps arrive typed; the rerun writes nothing")
    func sqliteToPostgres() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("sqlite-pg")
        try Fixtures.execute(path: dir + "/source.db", Self.sqliteDDL + """
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1500)
            INSERT INTO events SELECT n, n % 97, CASE n % 3 WHEN 0 THEN 'a' || char(9) || 'b' ELSE 'plain' END,
              CASE WHEN n % 13 = 0 THEN NULL ELSE '{"n": ' || n || ', "s": "x"}' END,
              CASE WHEN n % 11 = 0 THEN NULL ELSE n * 1.25 END, n % 2, randomblob(4), '{t' || n || ',NULL}',
              '6ba7b810-9dad-11d1-80b4-' || printf('%012d', n), '2024-02-' || printf('%02d', 1 + n % 28), n / 4.0,
              '2024-01-01T00:00:00Z', '2024-01-01 00:00:' || printf('%02d', n % 60) || '+00'
            FROM g;
            """)
        let target = try await server.createDatabase("dst")
        try await server.psql(target, PostgresWorkspace.ddl)
        try """
            name: to-postgres
            source: { sqlite: source.db, table: events }
            target: { postgres: "\(server.dsn(target))", table: events }
            key: [id]
            batch: { size: 400 }
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let first = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let row = try await server.psql(target, """
            SELECT kind, payload->>'s', amount, flag, octet_length(data), tags[1], tags[2] IS NULL, ref, day, ratio, created_at
            FROM events WHERE id = 6
            """)
        #expect(row == "a\tb|x|7.50|f|4|t6|t|6ba7b810-9dad-11d1-80b4-000000000006|2024-02-07|1.5|2024-01-01 00:00:00+00")
        #expect(try await server.psql(target, "SELECT count(*) FROM events") == "1500")
        let (again, decoded) = try await RunReport.run(in: dir)
        #expect(again.status == 0)
        let report = try #require(decoded, "\(again.stderr)")
        #expect(report["unchanged"] == 1500, "values that round-trip must compare equal: \(report.counters)")
    }

    @Test("PostgreSQL → SQLite: typed values land with SQLite's storage classes; the rerun writes nothing")
    func postgresToSQLite() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("pg-sqlite")
        let source = try await server.createDatabase("src")
        try await server.psql(source, PostgresWorkspace.ddl + PostgresWorkspace.rows(1_200))
        try Fixtures.execute(path: dir + "/target.db", Self.sqliteDDL)
        try """
            name: from-postgres
            source: { postgres: "\(server.dsn(source))", table: events }
            target: { sqlite: target.db, table: events }
            key: [id]
            batch: { size: 300 }
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let first = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let types = try Fixtures.text(path: dir + "/target.db", """
            SELECT typeof(account_id) || '|' || typeof(amount) || '|' || amount || '|' || typeof(flag) || '|' || flag || '|' || typeof(data) || '|' || typeof(ratio) || '|' || kind || '|' || tags || '|' || created_at
            FROM events WHERE id = 3
            """)
        #expect(types == "integer|real|3.75|integer|0|blob|real|back\\slash|{t3,NULL,\"q,\\\"r\"}|2024-01-01 00:00:04.5+00")
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM events") == 1_200)
        let (again, decoded) = try await RunReport.run(in: dir)
        let report = try #require(decoded, "\(again.stderr)")
        #expect(report["unchanged"] == 1_200, "\(report.counters)")
    }

    @Test("CSV → PostgreSQL: text fields are parsed by PostgreSQL's types; a malformed value is quarantined by line")
    func csvToPostgres() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("csv-pg")
        let target = try await server.createDatabase("dst")
        try await server.psql(target, PostgresWorkspace.ddl)
        try """
            id,account_id,kind,payload,amount,flag,created_at,updated_at
            1,10,signup,"{""plan"": ""pro""}",12.50,true,2024-03-01T10:00:00Z,2024-03-01T10:00:00Z
            2,11,refund,,,false,2024-03-02 11:00:00+02,2024-03-02 11:00:00+02
            3,12,bad,,not-a-number,true,2024-03-03T00:00:00Z,2024-03-03T00:00:00Z
            4,13,login,"[1, 2]",0.10,,2024-03-04T00:00:00Z,2024-03-04T00:00:00Z

            """.write(toFile: dir + "/events.csv", atomically: true, encoding: .utf8)
        try """
            name: csv-to-postgres
            source: { csv: events.csv }
            target: { postgres: "\(server.dsn(target))", table: events }
            key: [id]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let (result, decoded) = try await RunReport.run(in: dir)
        let report = try #require(decoded, "\(result.stderr)")
        #expect(report["inserted"] == 3 && report["quarantined"] == 1, "\(result.stderr)")
        let rows = try await server.psql(target, "SELECT id, payload->>'plan', amount, flag, created_at FROM events ORDER BY id")
        #expect(rows == """
            1|pro|12.50|t|2024-03-01 10:00:00+00
            2|||f|2024-03-02 09:00:00+00
            4||0.10||2024-03-04 00:00:00+00
            """)
        let quarantine = try await Binary.run(["quarantine", "1"], in: dir)
        #expect(quarantine.stdout.contains("numeric"), "\(quarantine.stdout)")
    }

    @Test("backfill demo --postgres replays the SQLite primary into a damaged PostgreSQL replica and proves them equal")
    func demoIntoPostgres() async throws {
        let server = try #require(PostgresFixture.server)
        let database = try await server.createDatabase("demo")
        let dir = try Fixtures.temporaryDirectory("pg-demo")
        let result = try await Binary.run(["demo", "--rows", "3000", "--dir", dir, "--postgres", server.dsn(database)], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("EQUAL: the replica now equals the primary."))
        #expect(try await server.psql(database, "SELECT count(*) FROM backfill_demo_orders") == "3000")
    }

    @Test("a column type with no faithful form in the other engine is refused before anything is written")
    func unmappableTypeIsRefused() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("pg-point")
        let source = try await server.createDatabase("src")
        try await server.psql(source, "CREATE TABLE shapes(id bigint PRIMARY KEY, at point); INSERT INTO shapes VALUES (1, '(1,2)')")
        try Fixtures.execute(path: dir + "/target.db", "CREATE TABLE shapes(id INTEGER PRIMARY KEY, at TEXT)")
        try """
            name: shapes
            source: { postgres: "\(server.dsn(source))", table: shapes }
            target: { sqlite: target.db, table: shapes }
            key: [id]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let result = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(result.status == 2)
        #expect(result.stderr.contains("'at' has type point"), "\(result.stderr)")
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM shapes") == 0)
    }

    @Test("unreachable servers, unknown DSN parameters and missing tables exit 2 with the DSN named and the password hidden")
    func badConnections() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("pg-bad")
        let source = try await server.createDatabase("src")
        try await server.psql(source, PostgresWorkspace.ddl)
        let cases: [(String, String, String)] = [
            ("postgres://app:hunter2@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2", "events", "cannot connect"),
            ("postgres://app:hunter2@127.0.0.1:\(server.port)/x?sslmod=disable", "events", "unknown connection parameter 'sslmod'"),
            (server.dsn(source, password: "hunter2"), "no_such_table", "no such table"),
        ]
        for (dsn, table, expected) in cases {
            try """
                name: bad
                source: { postgres: "\(dsn)", table: \(table) }
                target: { postgres: "\(server.dsn(source))", table: events }
                key: [id]
                """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
            let result = try await Binary.run(["run", "job.yaml"], in: dir)
            #expect(result.status == 2, "\(dsn): \(result.stderr)")
            #expect(result.stderr.contains(expected), "\(result.stderr)")
            #expect(!result.stderr.contains("hunter2") && !result.stdout.contains("hunter2"))
        }
    }
}
