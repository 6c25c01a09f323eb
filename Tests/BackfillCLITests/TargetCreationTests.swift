import BackfillTesting
import Foundation
import Testing

/// `target: { create: true }` and `run --create-target`: a missing target table is created from the
/// source's description — against the real binary, real SQLite files and a real PostgreSQL.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(5)))
struct TargetCreationTests {
    /// `name type nullable` of every column of `table`, and its primary key, from information_schema.
    static func shape(_ server: PostgresFixture, _ database: String, _ table: String) async throws -> String {
        try await server.psql(database, """
            SELECT string_agg(column_name || ' ' || CASE WHEN data_type = 'ARRAY' THEN udt_name ELSE data_type END
                || CASE WHEN data_type = 'numeric' THEN coalesce('(' || numeric_precision || ',' || numeric_scale || ')', '') ELSE '' END
                || ' ' || is_nullable, ', ' ORDER BY ordinal_position)
              || ' | key ' || (SELECT string_agg(k.column_name, ',' ORDER BY k.ordinal_position)
                FROM information_schema.table_constraints c JOIN information_schema.key_column_usage k USING (constraint_name, table_name)
                WHERE c.table_name = '\(table)' AND c.constraint_type = 'PRIMARY KEY')
            FROM information_schema.columns WHERE table_name = '\(table)' AND table_schema = 'public'
            """)
    }

    @Test("PostgreSQL → PostgreSQL: the created table has the source's types, nullability and key; filled and verified equal")
    func postgresToPostgres() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 2_000, countWrites: false)
        try await workspace.server.psql(workspace.target, "DROP TABLE events")
        try workspace.writeSpec(targetOptions: ", create: true")

        // validate, plan and a dry run show the table and create nothing.
        for command in [["validate", "job.yaml"], ["plan", "job.yaml"], ["run", "job.yaml", "--dry-run"]] {
            let result = try await Binary.run(command, in: workspace.dir)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(result.stdout.contains("CREATE TABLE \"events\"") && result.stdout.contains("PRIMARY KEY (\"id\")"), "\(result.stdout)")
        }
        #expect(try await workspace.server.psql(workspace.target, "SELECT to_regclass('events') IS NULL") == "t")

        let (run, report) = try await workspace.run()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("creating postgres table events"))
        #expect(report?["inserted"] == 2_000)
        #expect(try await Self.shape(workspace.server, workspace.target, "events") == Self.shape(workspace.server, workspace.source, "events"))
        let verify = try await Binary.run(["verify", "job.yaml"], in: workspace.dir)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        // The table exists now: a second run creates nothing and writes nothing.
        let (again, rerun) = try await workspace.run()
        #expect(again.status == 0 && !again.stderr.contains("creating") && rerun?["unchanged"] == 2_000)
    }

    @Test("SQLite → PostgreSQL with run --create-target: SQLite's types mapped, filled, verified equal")
    func sqliteToPostgres() async throws {
        guard let server = PostgresFixture.server else { return }
        let dir = try Fixtures.temporaryDirectory("create-sqlite-pg")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .text, rows: 3_000)
        let database = try await server.createDatabase("created")
        try """
            name: items
            source: { sqlite: source.db, table: items }
            target: { postgres: "\(server.dsn(database))", table: items }
            key: [id]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let refused = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("items"), "without create, a missing table is an error: \(refused.stderr)")
        let run = try await Binary.run(["run", "job.yaml", "--create-target", "--json"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try await Self.shape(server, database, "items")
            == "id text NO, name text NO, amount bigint YES, price double precision YES, note text YES, updated_at text NO | key id")
        let verify = try await Binary.run(["verify", "job.yaml"], in: dir)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }

    @Test("a CSV export with mixed types → a PostgreSQL table with inferred types (and NOT NULL where the whole file has no empty value), and a SQLite file created from nothing")
    func csvInferred() async throws {
        guard let server = PostgresFixture.server else { return }
        let dir = try Fixtures.temporaryDirectory("create-csv")
        var lines = ["id,qty,price,ratio,active,seen_at,local_at,day,doc,code,label"]
        for i in 1...300 {
            let label = i % 10 == 0 ? "" : "\"label, \(i)\""
            lines.append("\(i),\(i * 3),\(i).25,\(i)e-3,\(i % 2 == 0),2024-01-02T03:04:05.123+02:00,2024-01-02 03:04:05,2024-02-\(10 + i % 18),\"{\"\"a\"\": \(i)}\",00\(i),\(label)")
        }
        try lines.joined(separator: "\n").appending("\n").write(toFile: dir + "/export.csv", atomically: true, encoding: .utf8)
        let database = try await server.createDatabase("inferred")
        try """
            name: export
            source: { csv: export.csv }
            target: { postgres: "\(server.dsn(database))", table: imported, create: true }
            key: [id]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let run = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try await Self.shape(server, database, "imported") == [
            "id bigint NO", "qty bigint NO", "price numeric NO", "ratio double precision NO", "active boolean NO",
            "seen_at timestamp with time zone NO", "local_at timestamp without time zone NO", "day date NO", "doc jsonb NO",
            "code text NO", "label text YES | key id",
        ].joined(separator: ", "))
        let verify = try await Binary.run(["verify", "job.yaml"], in: dir)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")

        // The same export into a SQLite file that does not exist yet.
        try """
            name: export-sqlite
            source: { csv: export.csv }
            target: { sqlite: new/copy.db, table: imported, create: true }
            key: [id]
            """.write(toFile: dir + "/sqlite.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/new", withIntermediateDirectories: true)
        let copy = try await Binary.run(["run", "sqlite.yaml"], in: dir)
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(try Fixtures.text(path: dir + "/new/copy.db", "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('imported')")
            == "id INTEGER, qty INTEGER, price NUMERIC, ratio REAL, active TEXT, seen_at TEXT, local_at TEXT, day TEXT, doc TEXT, code TEXT, label TEXT")
        let verifyCopy = try await Binary.run(["verify", "sqlite.yaml"], in: dir)
        #expect(verifyCopy.status == 0, "\(verifyCopy.stdout) \(verifyCopy.stderr)")
    }

    @Test("an existing table is never altered: create: true with a table of another shape exits 2 naming the column; a column the source lacks exits 2")
    func existingTableIsNotAltered() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 100, countWrites: false)
        try await workspace.server.psql(workspace.target, "ALTER TABLE events DROP COLUMN ratio")
        try workspace.writeSpec(extra: "columns: [id, account_id, kind, ratio]", targetOptions: ", create: true")
        let before = try await Self.shape(workspace.server, workspace.target, "events")
        let (run, _) = try await workspace.run()
        #expect(run.status == 2 && run.stderr.contains("ratio"), "\(run.stderr)")
        #expect(try await Self.shape(workspace.server, workspace.target, "events") == before)

        try await workspace.server.psql(workspace.target, "DROP TABLE events")
        try workspace.writeSpec(extra: "columns: [id, account_id, kind, nope]", targetOptions: ", create: true")
        let (missing, _) = try await workspace.run()
        #expect(missing.status == 2 && missing.stderr.contains("the source has no column 'nope'"), "\(missing.stderr)")
        #expect(try await workspace.server.psql(workspace.target, "SELECT to_regclass('events') IS NULL") == "t", "nothing created")
    }

    @Test("init --from a PostgreSQL table writes a spec (no password: PGPASSWORD supplies it; create: true for a missing target) that creates, fills and verifies")
    func initFromPostgres() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 500, countWrites: false)
        try await workspace.server.psql(workspace.target, "DROP TABLE events")
        let source = workspace.server.dsn(workspace.source, password: "hunter2")
        let noTable = try await Binary.run(["init", "--from", source, "x.yaml"], in: workspace.dir)
        #expect(noTable.status == 2 && noTable.stderr.contains("--table") && !noTable.stderr.contains("hunter2"), "\(noTable.stderr)")
        let written = try await Binary.run(
            ["init", "--from", source, "--table", "events", "--to", workspace.server.dsn(workspace.target), "pg.yaml"], in: workspace.dir)
        #expect(written.status == 0, "\(written.stderr)")
        let text = try String(contentsOfFile: workspace.dir + "/pg.yaml", encoding: .utf8)
        #expect(!text.contains("hunter2") && text.contains("create: true") && text.contains(#"key: ["id"]"#), "\(text)")
        #expect(text.contains(#"newer-wins: "updated_at""#))
        let run = try await Binary.run(["run", "pg.yaml"], in: workspace.dir, environment: ["PGPASSWORD": "hunter2"])
        #expect(run.status == 0, "\(run.stderr)")
        let verify = try await Binary.run(["verify", "pg.yaml"], in: workspace.dir, environment: ["PGPASSWORD": "hunter2"])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }
}
