import BackfillTesting
import Foundation
import Testing

/// `verify` across engines (SQLite ↔ PostgreSQL, a CSV export against PostgreSQL) in canonical
/// form, and PostgreSQL text keys under a collation whose order is not the bytes'.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresCrossEngineVerifyTests {
    /// `backfill verify` as JSON: the exit status and the report.
    static func verify(in dir: String, _ extra: [String] = []) async throws -> (Int32, [String: Any]) {
        let result = try await Binary.run(["verify", "job.yaml", "--json"] + extra, in: dir)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (result.status, try #require(object, "\(result.status): \(result.stderr)"))
    }

    /// The differences of a report as `kind key (columns)`, sorted.
    static func differences(_ report: [String: Any]) -> [String] {
        (report["differences"] as? [[String: Any]] ?? []).map { difference in
            let key = (difference["key"] as? [[String: Any]] ?? []).map { "\($0["i"] ?? $0["t"] ?? "?")" }.joined(separator: ",")
            let columns = (difference["columns"] as? [String] ?? []).joined(separator: ",")
            return "\(difference["kind"] ?? "?") \(key)" + (columns.isEmpty ? "" : " (\(columns))")
        }.sorted()
    }

    @Test("SQLite → PostgreSQL: equal data verifies equal across engines (numeric scale, time zones, JSON, booleans, bytea, arrays, uuid, dates); every injected difference is found and nothing else; repair converges")
    func sqliteToPostgres() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("verify-sqlite-pg")
        try Fixtures.execute(path: dir + "/source.db", PostgresCrossEngineTests.sqliteDDL + """
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1500)
            INSERT INTO events SELECT n, n % 97, CASE n % 3 WHEN 0 THEN 'a' || char(9) || 'b' ELSE 'plain' END,
              CASE WHEN n % 13 = 0 THEN NULL ELSE '{"s": "x",   "n": ' || n || '}' END,
              CASE WHEN n % 11 = 0 THEN NULL ELSE n * 1.25 END, n % 2, randomblob(4), '{t' || n || ',NULL}',
              '6BA7B810-9DAD-11D1-80B4-' || printf('%012d', n), '2024-02-' || printf('%02d', 1 + n % 28), n / 4.0,
              '2024-01-01T02:00:00+02:00', '2024-01-01 00:00:' || printf('%02d', n % 60) || '.500+00'
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
        let run = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")

        let (equalStatus, equal) = try await Self.verify(in: dir)
        #expect(equalStatus == 0 && equal["result"] as? String == "equal", "\(Self.differences(equal).prefix(10))")
        #expect(equal["sourceRows"] as? Int == 1500 && equal["targetRows"] as? Int == 1500)

        try await server.psql(target, """
            DELETE FROM events WHERE id = 10;
            INSERT INTO events SELECT 5000, account_id, kind, payload, amount, flag, data, tags, ref, day, ratio, created_at, updated_at FROM events WHERE id = 11;
            UPDATE events SET amount = amount + 0.01 WHERE id = 20;
            UPDATE events SET payload = NULL WHERE id = 30;
            UPDATE events SET amount = 1 WHERE id = 33;
            UPDATE events SET kind = 'changed' WHERE id = 40;
            UPDATE events SET created_at = created_at + interval '1 microsecond' WHERE id = 50;
            UPDATE events SET payload = payload || '{"extra": true}' WHERE id = 60;
            """)
        let (differentStatus, different) = try await Self.verify(in: dir)
        #expect(differentStatus == 3)
        #expect(Self.differences(different) == [
            "different 20 (amount)", "different 30 (payload)", "different 33 (amount)", "different 40 (kind)",
            "different 50 (created_at)", "different 60 (payload)", "extra 5000", "missing 10",
        ])

        let repaired = try await Binary.run(["verify", "job.yaml", "--repair", "--delete-extra"], in: dir)
        #expect(repaired.status == 0, "\(repaired.stdout)\n\(repaired.stderr)")
        let (afterStatus, after) = try await Self.verify(in: dir)
        #expect(afterStatus == 0 && after["result"] as? String == "equal", "\(Self.differences(after))")
    }

    @Test("SQLite → PostgreSQL on a timestamptz key with fractions of a second: rows missing inside a second are named, nothing else")
    func timestampKeysWithinASecond() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("verify-sqlite-pg-times")
        // 40 keys, four a second: 10:00:00, 10:00:00.25, 10:00:00.5, 10:00:00.75, 10:00:01, …
        try Fixtures.execute(path: dir + "/source.db", """
            CREATE TABLE readings (at TEXT PRIMARY KEY, v INTEGER NOT NULL);
            WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < 39)
            INSERT INTO readings SELECT '2024-01-01 10:00:' || printf('%02d', n / 4)
              || CASE n % 4 WHEN 0 THEN '' WHEN 1 THEN '.25' WHEN 2 THEN '.5' ELSE '.75' END || '+00', n FROM g;
            """)
        let target = try await server.createDatabase("dst")
        try await server.psql(target, "CREATE TABLE readings (at timestamptz PRIMARY KEY, v integer NOT NULL)")
        try """
            name: readings
            source: { sqlite: source.db, table: readings }
            target: { postgres: "\(server.dsn(target))", table: readings }
            key: [at]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let run = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let (equalStatus, equal) = try await Self.verify(in: dir)
        #expect(equalStatus == 0 && equal["result"] as? String == "equal", "\(Self.differences(equal))")

        // A whole second (sorted before its own fractions by time) and a fraction go missing.
        try await server.psql(target, "DELETE FROM readings WHERE at IN ('2024-01-01 10:00:01+00', '2024-01-01 10:00:02.5+00')")
        let (status, report) = try await Self.verify(in: dir)
        #expect(status != 0 && report["missing"] as? Int == 2 && report["extra"] as? Int == 0 && report["different"] as? Int == 0,
                "\(Self.differences(report))")
        #expect(Self.differences(report) == ["missing 2024-01-01T10:00:01Z", "missing 2024-01-01T10:00:02.5Z"], "\(Self.differences(report))")
    }

    @Test("PostgreSQL → SQLite: equal data verifies equal; a missing row, an extra one and a value set to NULL are found")
    func postgresToSQLite() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("verify-pg-sqlite")
        let source = try await server.createDatabase("src")
        try await server.psql(source, PostgresWorkspace.ddl + PostgresWorkspace.rows(1_200))
        try Fixtures.execute(path: dir + "/target.db", PostgresCrossEngineTests.sqliteDDL)
        try """
            name: from-postgres
            source: { postgres: "\(server.dsn(source))", table: events }
            target: { sqlite: target.db, table: events }
            key: [id]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let run = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let (equalStatus, equal) = try await Self.verify(in: dir)
        #expect(equalStatus == 0, "\(Self.differences(equal).prefix(10))")

        try Fixtures.execute(path: dir + "/target.db", """
            DELETE FROM events WHERE id = 100;
            INSERT INTO events SELECT 9000, account_id, kind, payload, amount, flag, data, tags, ref, day, ratio, created_at, updated_at FROM events WHERE id = 1;
            UPDATE events SET ratio = NULL WHERE id = 200;
            """)
        let (status, report) = try await Self.verify(in: dir)
        #expect(status == 3)
        #expect(Self.differences(report) == ["different 200 (ratio)", "extra 9000", "missing 100"])
    }

    @Test("a CSV export against a PostgreSQL table: numeric scale, offsets and JSON spacing compare equal; a changed value and a missing row are found")
    func csvToPostgres() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("verify-csv-pg")
        let target = try await server.createDatabase("dst")
        try await server.psql(target, "CREATE TABLE payments(id bigint PRIMARY KEY, amount numeric(12,2), paid_at timestamptz, meta jsonb, note text)")
        try """
            id,amount,paid_at,meta,note
            1,12.5,2024-03-01T10:00:00+01:00,"{""b"": 2, ""a"": 1}",first
            2,7,2024-03-01 09:00:00Z,,
            3,0.10,2024-03-01T09:00:00.250Z,"[1, 2]","x,y"
            4,100,2024-03-02T00:00:00Z,{},last
            """.write(toFile: dir + "/payments.csv", atomically: true, encoding: .utf8)
        try """
            name: payments
            source: { csv: payments.csv }
            target: { postgres: "\(server.dsn(target))", table: payments }
            key: [id]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let run = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let (equalStatus, equal) = try await Self.verify(in: dir)
        #expect(equalStatus == 0, "\(Self.differences(equal))")

        try await server.psql(target, "UPDATE payments SET paid_at = paid_at + interval '1 hour' WHERE id = 1; DELETE FROM payments WHERE id = 4")
        let (status, report) = try await Self.verify(in: dir)
        #expect(status == 3)
        #expect(Self.differences(report) == ["different 1 (paid_at)", "missing 4"])
    }

    @Test("PostgreSQL text keys under a collation that is not byte order (ICU) verify without false differences")
    func textKeysUnderICUCollation() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("verify-collation")
        let source = try await server.createDatabase("src"), target = try await server.createDatabase("dst")
        // ICU sorts every `a…` key before every `B…` key, bytes sort the other way round: merging
        // rows listed in one order with comparisons in the other pairs them wrongly (the target's
        // missing last `a…` key makes every `B…` row after it look extra).
        let ddl = """
            CREATE TABLE codes(code text COLLATE "und-x-icu" PRIMARY KEY, n integer);
            INSERT INTO codes SELECT CASE WHEN g % 2 = 0 THEN 'a' ELSE 'B' END || lpad(g::text, 6, '0'), g FROM generate_series(1, 30000) g;
            """
        try await server.psql(source, ddl)
        try await server.psql(target, ddl + "DELETE FROM codes WHERE code IN ('a030000', 'B000001'); UPDATE codes SET n = -1 WHERE code = 'a000002';")
        try """
            name: codes
            source: { postgres: "\(server.dsn(source))", table: codes }
            target: { postgres: "\(server.dsn(target))", table: codes }
            key: [code]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let (status, report) = try await Self.verify(in: dir)
        #expect(status == 3)
        let differences = (report["differences"] as? [[String: Any]] ?? []).map { difference in
            "\(difference["kind"] ?? "?") " + ((difference["key"] as? [[String: Any]])?.first?["t"] as? String ?? "?")
        }.sorted()
        #expect(differences == ["different a000002", "missing B000001", "missing a030000"])
        #expect(report["sourceRows"] as? Int == 30_000 && report["targetRows"] as? Int == 29_998)
    }
}
