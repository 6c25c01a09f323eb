import BackfillTesting
import Foundation
import Testing

/// PostgreSQL → PostgreSQL ships only the rows that differ: each batch is compared by bucket
/// checksums and key hashes inside both servers, and only rows whose hashes differ are read and
/// written (`PostgresRangeDiffer`, `DiffPath`). A window the target mostly lacks is read directly.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresDiffFirstTests {
    /// What the debug log says the diff did: rows shipped after a hash comparison, rows read
    /// directly because the target lacked most of their batch, and how many batches each.
    struct Shipping {
        var byHash = 0
        var hashBatches = 0
        var direct = 0
        var directBatches = 0

        init(log: String) {
            for line in log.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let message = object["message"] as? String
                else { continue }
                let metadata = object["metadata"] as? [String: Any] ?? object
                func number(_ key: String) -> Int { (metadata[key] as? Int) ?? Int("\(metadata[key] ?? "")") ?? 0 }
                if message == "batch compared by hashes" {
                    byHash += number("backfill.rows.shipped")
                    hashBatches += 1
                } else if message == "batch mostly missing in the target; read directly" {
                    direct += number("backfill.rows.read")
                    directBatches += 1
                }
            }
        }
    }

    /// Writes `dir/job.yaml`: `table` of database `source` into the same table of `target`.
    static func writeJob(
        in dir: String, server: PostgresFixture, source: String, target: String, table: String, key: String, extra: String
    ) throws {
        try """
            name: \(table)
            source: { postgres: "\(server.dsn(source))", table: \(table) }
            target: { postgres: "\(server.dsn(target))", table: \(table) }
            key: [\(key)]
            \(extra)
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
    }

    @Test("one differing row deep in the table and gaps at its start, middle and end: exact counters, only the differing rows (and the gaps' batches) shipped and written; the rerun writes nothing")
    func shipsOnlyWhatDiffers() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 20_000, countWrites: false)
        let server = workspace.server
        try await server.psql(workspace.target, """
            TRUNCATE events;
            \(PostgresWorkspace.rows(20_000))
            DELETE FROM events WHERE id <= 400 OR id BETWEEN 9801 AND 10200 OR id > 19600;
            UPDATE events SET amount = amount + 0.01 WHERE id = 15555;
            """)
        try await workspace.installWriteLog()
        let plan = try await Binary.run(["plan", "job.yaml", "--json"], in: workspace.dir)
        #expect(plan.stdout.contains("\"hash-diff\""), "plan says the run descends by hashes: \(plan.stdout.suffix(400))")
        let (result, report) = try await workspace.run(["--log-level", "debug", "--log-format", "json"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let counts = try #require(report)
        #expect(counts["read"] == 20_000 && counts["inserted"] == 1_200 && counts["updated"] == 1 && counts["unchanged"] == 18_799)
        #expect(counts.balanced)
        #expect(try await server.psql(workspace.target, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes") == "1201,1201")
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
        let shipping = Shipping(log: result.stderr)
        // Batches of 500: each gap edge costs at most one batch read directly; everything else is
        // compared by hash, and only the one stale row (plus gap rows next to an edge) is shipped.
        #expect(shipping.hashBatches > 20, "\(shipping)")
        #expect(shipping.byHash + shipping.direct <= 1_201 + 6 * 500, "\(shipping)")
        #expect(shipping.byHash + shipping.direct >= 1_201, "\(shipping)")
        // The run counts what the source shipped: the same rows.
        #expect(counts["shippedRows"] == shipping.byHash + shipping.direct, "\(shipping)")
        #expect(counts["shippedBytes"] > 0)
        // Both sides sent hashes: 16 bytes a row hash, 24 a bucket — far less than the rows.
        let sourceHashes = counts["sourceHashBytes"], targetHashes = counts["targetHashBytes"]
        #expect(sourceHashes >= 16 * 500 && targetHashes >= 16 * 500 && sourceHashes <= 16 * 2 * 20_000 && targetHashes <= 16 * 2 * 20_000, "\(counts)")
        let text = try await Binary.run(["report", "1"], in: workspace.dir)
        #expect(text.stdout.contains("of hashes") && text.stdout.contains("shipped from the target:"), "\(text.stdout)")

        let (second, rerun) = try await workspace.run()
        #expect(second.status == 0 && rerun?["unchanged"] == 20_000 && rerun?["shippedRows"] == 0, "\(second.stderr)")
        #expect(try await server.psql(workspace.target, "SELECT count(*) FROM writes") == "1201")
    }

    @Test("a table that is all key (composite text and integer): a missing row and nothing else is found and written")
    func allKeyTable() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("pg-allkey")
        let source = try await server.createDatabase("src")
        let target = try await server.createDatabase("dst")
        let ddl = """
            CREATE TABLE members(team text NOT NULL, person integer NOT NULL, PRIMARY KEY (team, person));
            INSERT INTO members SELECT 'team-' || (g % 40), g FROM generate_series(1, 3000) g;
            """
        try await server.psql(source, ddl)
        try await server.psql(target, ddl + "DELETE FROM members WHERE person IN (7, 1500, 2999);")
        try Self.writeJob(in: dir, server: server, source: source, target: target, table: "members", key: "team, person", extra: "batch: { size: 400 }")
        let (result, report) = try await RunReport.run(in: dir, ["--log-level", "debug", "--log-format", "json"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        #expect(report?["inserted"] == 3 && report?["unchanged"] == 2_997 && report?["updated"] == 0, "\(result.stdout)")
        let shipping = Shipping(log: result.stderr)
        #expect(shipping.byHash == 3 && shipping.direct == 0, "\(shipping)")
        #expect(
            try await server.fingerprint(source, table: "members", orderBy: "team, person")
                == server.fingerprint(target, table: "members", orderBy: "team, person"))
    }

    @Test(
        "a uuid key with stale rows in every batch (every row's hash asked at once) and a key the target lacks: only those rows are shipped, their keys read back from the source by hash",
        arguments: ["uuid", "bigint"])
    func spreadDamageUnderAKeyThatIsNotItsOwnHash(keyType: String) async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("pg-spread-\(keyType)")
        let source = try await server.createDatabase("src")
        let target = try await server.createDatabase("dst")
        // uuid keys are hashed inside the servers; bigint keys (negative ones too) are their own hash.
        let key = keyType == "uuid" ? "md5(g::text)::uuid" : "g - 2000"
        let ddl = """
            CREATE TABLE items(id \(keyType) PRIMARY KEY, label text, amount numeric(10,2));
            INSERT INTO items SELECT \(key), 'item ' || g, g / 100.0 FROM generate_series(1, 4000) g;
            """
        try await server.psql(source, ddl)
        try await server.psql(target, """
            \(ddl)
            UPDATE items SET label = label || ' (stale)' WHERE id IN (SELECT \(key) FROM generate_series(1, 4000) g WHERE g % 37 = 3);
            DELETE FROM items WHERE id IN (SELECT \(key) FROM generate_series(1, 4000) g WHERE g IN (1, 2222, 4000));
            """)
        try Self.writeJob(in: dir, server: server, source: source, target: target, table: "items", key: "id", extra: "batch: { size: 500 }\nworkers: 1")
        let (result, report) = try await RunReport.run(in: dir, ["--log-level", "debug", "--log-format", "json"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        // 109 stale rows (g % 37 = 3), none of them among the three deleted.
        #expect(report?["inserted"] == 3 && report?["updated"] == 109 && report?["unchanged"] == 3_888, "\(result.stdout)")
        let shipping = Shipping(log: result.stderr)
        #expect(shipping.byHash == 112 && shipping.direct == 0, "\(shipping)")
        #expect(
            try await server.fingerprint(source, table: "items", orderBy: "id") == server.fingerprint(target, table: "items", orderBy: "id"))
        let (second, rerun) = try await RunReport.run(in: dir, [])
        #expect(second.status == 0 && rerun?["unchanged"] == 4_000 && rerun?["shippedRows"] == 0, "\(second.stderr)")
    }

    @Test("a batch whose keys the target holds none of is COPYed straight into the table; a key the probe cannot see (ICU order against byte order) makes the COPY fail on the key and the batch is merged instead")
    func directCopyIntoAGapAndItsFallback() async throws {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("pg-direct-copy")
        let source = try await server.createDatabase("src")
        let target = try await server.createDatabase("dst")
        // ICU sorts every `a…` key before every `B…` key, bytes the other way round: the probe's
        // range from the batch's first to its last key in byte order is empty in the column's order.
        let ddl = """
            CREATE TABLE codes(code text COLLATE "und-x-icu" PRIMARY KEY, n integer);
            INSERT INTO codes SELECT CASE WHEN g % 2 = 0 THEN 'a' ELSE 'B' END || lpad(g::text, 4, '0'), g FROM generate_series(1, 3000) g;
            """
        try await server.psql(source, ddl)
        // Which statement inserted into the target: `COPY` straight in, or the merge (`WITH …`).
        try await server.psql(target, """
            \(ddl)
            TRUNCATE codes;
            CREATE TABLE inserts(statement text);
            CREATE FUNCTION log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO inserts VALUES (split_part(ltrim(current_query()), ' ', 1)); RETURN NULL; END $$;
            CREATE TRIGGER log_insert AFTER INSERT ON codes FOR EACH STATEMENT EXECUTE FUNCTION log_insert();
            """)
        try Self.writeJob(in: dir, server: server, source: source, target: target, table: "codes", key: "code", extra: "batch: { size: 500 }\nworkers: 1")
        let (load, loaded) = try await RunReport.run(in: dir, [])
        #expect(load.status == 0 && loaded?["inserted"] == 3_000, "\(load.stderr.suffix(2000))")
        #expect(try await server.psql(target, "SELECT string_agg(DISTINCT statement, ',') || ' ' || count(*) FROM inserts") == "COPY 6")
        #expect(
            try await server.fingerprint(source, table: "codes", orderBy: "code") == server.fingerprint(target, table: "codes", orderBy: "code"))

        // Empty it again but for one `a…` key, changed: the batch's byte-order range misses it.
        try await server.psql(target, "DELETE FROM codes WHERE code <> 'a0002'; UPDATE codes SET n = -1; TRUNCATE inserts;")
        try FileManager.default.removeItem(atPath: dir + "/.backfill")
        try Self.writeJob(in: dir, server: server, source: source, target: target, table: "codes", key: "code", extra: "range: { where: \"n <= 200\" }\nbatch: { size: 500 }\nworkers: 1")
        let (repair, repaired) = try await RunReport.run(in: dir, [])
        #expect(repair.status == 0, "\(repair.stderr.suffix(2000))")
        #expect(repaired?["inserted"] == 199 && repaired?["updated"] == 1 && repaired?["unchanged"] == 0, "\(repair.stdout)")
        // The COPY that failed on 'a0002' was undone with its trigger's row; the merge wrote the batch.
        #expect(try await server.psql(target, "SELECT string_agg(statement, ',') FROM inserts") == "WITH")
        #expect(try await server.psql(target, "SELECT count(*) || ',' || sum(n) FROM codes") == "200,20100")
    }
}
