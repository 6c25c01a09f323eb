import BackfillTesting
import Foundation

/// Source and target databases in the test server, an `events` table with every type the
/// PostgreSQL adapter maps, a spec, and the counters `backfill run --json` reports.
struct PostgresWorkspace {
    let server: PostgresFixture
    let dir: String
    let source: String
    let target: String

    /// Every mapped type, with values that need escaping in COPY (tab, newline, backslash,
    /// quotes), NULLs, arrays with NULL elements and bytea.
    static let ddl = """
        CREATE TABLE events(
          id bigint PRIMARY KEY, account_id integer NOT NULL, kind text NOT NULL, payload jsonb,
          amount numeric(12,2), flag boolean, data bytea, tags text[], ref uuid, day date, ratio double precision,
          created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
        """

    static func rows(_ n: Int) -> String {
        """
        INSERT INTO events SELECT g, g % 97,
          (ARRAY['plain', E'tab\\there', E'line\\nbreak', E'back\\\\slash', 'quote''s "x"'])[1 + g % 5],
          CASE WHEN g % 13 = 0 THEN NULL ELSE jsonb_build_object('n', g, 's', E'x"y\\tz') END,
          CASE WHEN g % 11 = 0 THEN NULL ELSE g * 1.25 END,
          CASE WHEN g % 7 = 0 THEN NULL ELSE g % 2 = 0 END,
          decode(md5(g::text), 'hex'), ARRAY['t' || g, NULL, 'q,"r'], md5(g::text)::uuid,
          date '2024-01-01' + (g % 400), g / 3.0,
          timestamptz '2024-01-01 00:00:00+00' + g * interval '1.5 second',
          timestamptz '2024-01-01 00:00:00+00' + g * interval '2 second'
        FROM generate_series(1, \(n)) g;
        """
    }

    /// Deletes every tenth row of the target from 3 and makes every tenth from 7 stale.
    static let damage = """
        DELETE FROM events WHERE id % 10 = 3;
        UPDATE events SET amount = amount + 1, kind = 'stale', updated_at = updated_at - interval '1 day' WHERE id % 10 = 7;
        """

    /// Creates both databases with `rows` rows, the target damaged (and with a write log when
    /// `countWrites`), and writes `job.yaml` with `extra` spec lines.
    static func make(rows: Int, extra: String = "", countWrites: Bool = true) async throws -> PostgresWorkspace {
        guard let server = PostgresFixture.server else { throw FixtureError("no PostgreSQL server (run scripts/test.sh)") }
        let dir = try Fixtures.temporaryDirectory("pg")
        let source = try await server.createDatabase("src")
        let target = try await server.createDatabase("dst")
        try await server.psql(source, ddl + Self.rows(rows) + "ANALYZE events;")
        try await server.psql(target, ddl + Self.rows(rows) + damage + "ANALYZE events;")
        let workspace = PostgresWorkspace(server: server, dir: dir, source: source, target: target)
        if countWrites { try await workspace.installWriteLog() }
        try workspace.writeSpec(extra: extra)
        return workspace
    }

    /// - Parameter targetOptions: more keys of `target:` (`, create: true`).
    func writeSpec(extra: String = "", name: String = "events", targetOptions: String = "") throws {
        let spec = """
            name: \(name)
            source: { postgres: "\(server.dsn(source))", table: events }
            target: { postgres: "\(server.dsn(target))", table: events\(targetOptions) }
            key: [id]
            batch: { size: 500 }
            workers: 2
            \(extra)
            """
        try spec.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
    }

    /// Logs the id of every row inserted or updated in the target, to prove each was written once.
    func installWriteLog() async throws {
        try await server.psql(target, """
            CREATE TABLE writes(id bigint NOT NULL);
            CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO writes VALUES (NEW.id); RETURN NEW; END $$;
            CREATE TRIGGER log_write AFTER INSERT OR UPDATE ON events FOR EACH ROW EXECUTE FUNCTION log_write();
            """)
    }

    func fingerprints() async throws -> (source: String, target: String) {
        (try await server.fingerprint(source, table: "events"), try await server.fingerprint(target, table: "events"))
    }

    func run(_ arguments: [String] = []) async throws -> (Binary.Result, RunReport?) {
        try await RunReport.run(in: dir, arguments)
    }
}

/// The parts of `backfill run --json` the tests read.
struct RunReport: Decodable {
    var status: String
    var counters: [String: Int]
    var balanced: Bool

    subscript(_ name: String) -> Int { counters[name] ?? -1 }

    /// `backfill run job.yaml --json ARGS` in `dir`, and its report when it printed one.
    static func run(in dir: String, _ arguments: [String] = []) async throws -> (Binary.Result, RunReport?) {
        let result = try await Binary.run(["run", "job.yaml", "--json"] + arguments, in: dir)
        return (result, try? JSONDecoder().decode(RunReport.self, from: Data(result.stdout.utf8)))
    }
}
