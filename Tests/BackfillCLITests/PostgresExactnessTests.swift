import BackfillTesting
import Foundation
import Testing

/// Exact or refused, against the real PostgreSQL: types without an equality operator copy and
/// compare by their text; a value the target cannot hold exactly is quarantined with the reason
/// (the run exits 5), never written as another value.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresExactnessTests {
    static func write(_ spec: String, in dir: String) throws {
        try spec.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
    }

    /// A SQLite source built by `sourceSQL`, an empty PostgreSQL target table made by `targetDDL`, and
    /// `job.yaml` copying `table` from one to the other.
    static func sqliteToPostgres(_ table: String, sourceSQL: String, targetDDL: String) async throws -> String {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("sqlite-\(table)")
        try Fixtures.execute(path: dir + "/source.db", sourceSQL)
        let target = try await server.createDatabase("dst")
        try await server.psql(target, targetDDL)
        try write("""
            name: \(table)
            source: { sqlite: source.db, table: \(table) }
            target: { postgres: "\(server.dsn(target))", table: \(table) }
            key: [id]
            """, in: dir)
        return dir
    }

    @Test("PG → PG with json, point, xml and json[] columns (no = operator): copied exactly, a rerun writes nothing, white space in json is a difference")
    func typesWithoutEquality() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("pg-no-equality")
        let ddl = "CREATE TABLE shapes(id bigint PRIMARY KEY, doc json, at point, x xml, docs json[], box box, note text);"
        let source = try await server.createDatabase("src"), target = try await server.createDatabase("dst")
        try await server.psql(source, ddl + """
            INSERT INTO shapes SELECT g, ('{"b": ' || g || ',  "a": [1, 2.50]}')::json, point(g, -g / 3.0),
              ('<r n="' || g || '"> x </r>')::xml, ARRAY['{"k": 1}'::json, NULL], box(point(0, 0), point(g, g)), 'n' || g
            FROM generate_series(1, 300) g;
            """)
        try await server.psql(target, ddl)
        try Self.write("""
            name: shapes
            source: { postgres: "\(server.dsn(source))", table: shapes }
            target: { postgres: "\(server.dsn(target))", table: shapes }
            key: [id]
            batch: { size: 50, min: 1 }
            """, in: dir)
        let validate = try await Binary.run(["validate", "job.yaml"], in: dir)
        #expect(validate.status == 0, "\(validate.stderr)")
        let (first, load) = try await RunReport.run(in: dir)
        #expect(first.status == 0 && load?["inserted"] == 300, "\(first.stderr.suffix(1500))")
        let fingerprint = { (db: String) in try await server.fingerprint(db, table: "shapes") }
        #expect(try await fingerprint(source) == fingerprint(target))

        try await server.psql(target, """
            UPDATE shapes SET doc = '{"b":7,"a":[1,2.50]}' WHERE id = 7;
            UPDATE shapes SET at = point(11, -3.6666) WHERE id = 11;
            UPDATE shapes SET x = '<r n="13">x</r>' WHERE id = 13;
            """)
        let (status, report) = try await PostgresCrossEngineVerifyTests.verify(in: dir)
        #expect(status == 3)
        #expect(PostgresCrossEngineVerifyTests.differences(report) == ["different 11 (at)", "different 13 (x)", "different 7 (doc)"])
        let (_, repair) = try await RunReport.run(in: dir)
        #expect(repair?["updated"] == 3 && repair?["unchanged"] == 297, "\(String(describing: repair?.counters))")
        let (_, rerun) = try await RunReport.run(in: dir)
        #expect(rerun?["updated"] == 0 && rerun?["inserted"] == 0 && rerun?["unchanged"] == 300)
        #expect(try await fingerprint(source) == fingerprint(target))
        #expect(try await PostgresCrossEngineVerifyTests.verify(in: dir).0 == 0)
    }

    @Test("PG float8 NaN into SQLite REAL and a 40-digit numeric into SQLite NUMERIC: quarantined with the reason (SQLite would store NULL, or round), exit 5; a rerun quarantines them again and writes nothing")
    func nanIntoSQLite() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("pg-nan-sqlite")
        let source = try await server.createDatabase("src")
        try await server.psql(source, """
            CREATE TABLE readings(id bigint PRIMARY KEY, value double precision, amount numeric);
            INSERT INTO readings VALUES (1, 1.5, 1.25), (2, 'NaN', 2), (3, 'Infinity', 'NaN'), (4, '-0', -0.5),
              (5, 5, 1234567890123456789012345678901234567890.123);
            """)
        try Fixtures.execute(path: dir + "/target.db", "CREATE TABLE readings(id INTEGER PRIMARY KEY, value REAL, amount NUMERIC);")
        try Self.write("""
            name: readings
            source: { postgres: "\(server.dsn(source))", table: readings }
            target: { sqlite: target.db, table: readings }
            key: [id]
            """, in: dir)
        for attempt in 0..<2 {
            let (result, report) = try await RunReport.run(in: dir)
            #expect(result.status == 5, "attempt \(attempt): \(result.stderr)")
            #expect(report?["quarantined"] == 2 && report?["inserted"] == (attempt == 0 ? 3 : 0) && report?["updated"] == 0)
        }
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM readings") == 3)
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM readings WHERE value IS NULL") == 0)
        let quarantine = try await Binary.run(["quarantine", "1"], in: dir)
        #expect(quarantine.stdout.contains("NaN cannot be stored in SQLite"), "\(quarantine.stdout)")
        #expect(quarantine.stdout.contains("has more digits than a SQLite REAL holds"), "\(quarantine.stdout)")
    }

    @Test("SQLite REAL into PostgreSQL real: an exact float4 is copied and verifies equal; a double float4 cannot hold is quarantined, not rounded")
    func float4AcrossEngines() async throws {
        let dir = try await Self.sqliteToPostgres(
            "ratios",
            sourceSQL: """
                CREATE TABLE ratios(id INTEGER PRIMARY KEY, r REAL);
                INSERT INTO ratios VALUES (1, 0.3333333432674408), (2, 0.3333333333333333), (3, 0.5), (4, 1.401298464324817e-45);
                """,
            targetDDL: "CREATE TABLE ratios(id bigint PRIMARY KEY, r real);")
        let (result, report) = try await RunReport.run(in: dir)
        #expect(result.status == 5, "\(result.stderr)")
        #expect(report?["inserted"] == 3 && report?["quarantined"] == 1)
        let quarantine = try await Binary.run(["quarantine", "1"], in: dir)
        #expect(quarantine.stdout.contains("no exact float4 (real) form"), "\(quarantine.stdout)")
        let (_, rerun) = try await RunReport.run(in: dir)
        #expect(rerun?["unchanged"] == 3 && rerun?["updated"] == 0 && rerun?["inserted"] == 0)
        try Fixtures.execute(path: dir + "/source.db", "DELETE FROM ratios WHERE id = 2")
        let (status, verify) = try await PostgresCrossEngineVerifyTests.verify(in: dir)
        #expect(status == 0, "run and verify disagree on float4: \(PostgresCrossEngineVerifyTests.differences(verify))")
    }

    @Test("identifiers PostgreSQL and SQLite accept: a table with '-' and a space in a schema, mixed-case columns with spaces; PG → PG, SQLite → PG and verify")
    func quotedIdentifiers() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("pg-identifiers")
        let ddl = """
            CREATE SCHEMA "Sales Data"; CREATE TABLE "Sales Data"."Order-Lines 2"("Line No" bigint PRIMARY KEY, "Qty-Ordered" integer, "MixedCase" text);
            """
        let source = try await server.createDatabase("src"), target = try await server.createDatabase("dst")
        try await server.psql(source, ddl + """
            INSERT INTO "Sales Data"."Order-Lines 2" SELECT g, g * 2, 'v ' || g FROM generate_series(1, 250) g;
            """)
        try await server.psql(target, ddl)
        try Fixtures.execute(path: dir + "/source.db", """
            CREATE TABLE "Order Lines"("Line No" INTEGER PRIMARY KEY, "Qty-Ordered" INTEGER, "MixedCase" TEXT);
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 250) INSERT INTO "Order Lines" SELECT n, n * 2, 'v ' || n FROM g;
            """)
        let table = "\"Sales Data.Order-Lines 2\""
        for (name, sourceEndpoint) in [
            ("pg", "{ postgres: \"\(server.dsn(source))\", table: \(table) }"), ("sqlite", "{ sqlite: source.db, table: \"main.Order Lines\" }"),
        ] {
            try Self.write("""
                name: lines-\(name)
                source: \(sourceEndpoint)
                target: { postgres: "\(server.dsn(target))", table: \(table) }
                key: ["Line No"]
                columns: ["Line No", "Qty-Ordered", "MixedCase"]
                batch: { size: 40, min: 1 }
                """, in: dir)
            let (result, report) = try await RunReport.run(in: dir)
            #expect(result.status == 0, "\(name): \(result.stderr.suffix(1500))")
            #expect(report?["read"] == 250 && report?["unchanged"] == (name == "pg" ? 0 : 250), "\(name): \(String(describing: report?.counters))")
            let (status, verify) = try await PostgresCrossEngineVerifyTests.verify(in: dir)
            #expect(status == 0, "\(name): \(PostgresCrossEngineVerifyTests.differences(verify))")
        }
    }

    @Test("SQLite → PostgreSQL numeric(12,2), timestamp(3) and timestamptz(0): a value the column would round is quarantined; what fits is copied and verifies equal")
    func valuesTheColumnWouldRound() async throws {
        let dir = try await Self.sqliteToPostgres(
            "prices",
            sourceSQL: """
                CREATE TABLE prices(id INTEGER PRIMARY KEY, amount NUMERIC, at TEXT, zoned TEXT);
                INSERT INTO prices VALUES
                  (1, 1.25, '2024-01-01 00:00:00.123', '2024-01-01 00:00:00+00'),
                  (2, '1.005', '2024-01-01 00:00:00', '2024-01-01 00:00:00Z'),
                  (3, 7, '2024-01-01 00:00:00.123456', '2024-01-01 00:00:00+00'),
                  (4, 2.5, '2024-01-01 00:00:01.120', '2024-01-01 00:00:00.5+00'),
                  (5, '12.340', '2024-02-29 23:59:59.999', '2024-06-01 12:00:00+05:30');
                """,
            targetDDL: "CREATE TABLE prices(id bigint PRIMARY KEY, amount numeric(12,2), at timestamp(3), zoned timestamptz(0));")
        let (result, report) = try await RunReport.run(in: dir)
        #expect(result.status == 5, "\(result.stderr)")
        #expect(report?["inserted"] == 2 && report?["quarantined"] == 3, "\(String(describing: report?.counters))")
        let quarantine = try await Binary.run(["quarantine", "1"], in: dir)
        #expect(quarantine.stdout.contains("1.005 has more than 2 decimal places"), "\(quarantine.stdout)")
        #expect(quarantine.stdout.contains("finer than 3 digits"), "\(quarantine.stdout)")
        #expect(quarantine.stdout.contains("finer than 0 digits"), "\(quarantine.stdout)")
        let (_, rerun) = try await RunReport.run(in: dir)
        #expect(rerun?["unchanged"] == 2 && rerun?["inserted"] == 0 && rerun?["updated"] == 0)
        try Fixtures.execute(path: dir + "/source.db", "DELETE FROM prices WHERE id IN (2, 3, 4)")
        let (status, verify) = try await PostgresCrossEngineVerifyTests.verify(in: dir)
        #expect(status == 0, "\(PostgresCrossEngineVerifyTests.differences(verify))")
    }
}

