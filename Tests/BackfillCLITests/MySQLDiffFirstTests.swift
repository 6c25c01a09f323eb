import BackfillTesting
import Foundation
import Testing

/// MySQL → MySQL ships only the rows that differ (`MySQLWindowHashing`: bucket checksums and row
/// hashes inside both servers), and `verify` between two MySQL tables counts and checksums inside
/// both servers, finding every differing row exactly — on integer keys (bucketed by key) and text
/// keys (bucketed by a hash of the key).
@Suite(.serialized) struct MySQLDiffFirstTests {
    static let columns = "id, account, kind, amount, at, note"

    /// `events` in `database`, rows 1...n, keyed by `keyType` (`BIGINT` or `VARCHAR(20)`, whose
    /// keys are `k` and the number).
    static func fill(_ server: MariaDBFixture, _ database: String, rows n: Int, keyType: String, amount: String = "DECIMAL(12,2)") async throws {
        let key = keyType == "BIGINT" ? "seq" : "CONCAT('k', seq)"
        try await server.sql(database, """
            CREATE TABLE events (id \(keyType) PRIMARY KEY, account BIGINT NOT NULL, kind VARCHAR(16) NOT NULL, amount \(amount),
              at DATETIME(6) NOT NULL, note TEXT);
            INSERT INTO events SELECT \(key), seq % 97, ELT(1 + seq % 3, 'purchase', 'refund', 'sign#up'),
              IF(seq % 13 = 0, NULL, seq * 1.25), TIMESTAMP('2024-01-01') + INTERVAL seq SECOND,
              IF(seq % 7 = 0, NULL, CONCAT('note ', seq)) FROM seq_1_to_\(n);
            """)
    }

    static func writeJob(_ dir: String, _ server: MariaDBFixture, source: String, target: String, extra: String = "") throws {
        try """
            name: events
            source: { mysql: "\(server.dsn(source))", table: events }
            target: { mysql: "\(server.dsn(target))", table: events }
            key: [id]
            batch: { size: 1000 }
            workers: 2
            \(extra)
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
    }

    static func number(_ name: String, in json: String) -> Int? { MySQLRunTests.counter(name, in: json) }

    @Test(
        "integer and text keys: gaps at the start, middle and end, one row changed deep inside, a NULL that was a value, stale rows — only those shipped, exact counters, verify finds each, the rerun ships nothing",
        arguments: ["BIGINT", "VARCHAR(20)"])
    func shipsOnlyWhatDiffers(keyType: String) async throws {
        let server = try MySQLRunTests.server()
        let dir = try Fixtures.temporaryDirectory("mysql-diff")
        let source = try await server.createDatabase("src")
        let target = try await server.createDatabase("dst")
        try await Self.fill(server, source, rows: 20_000, keyType: keyType)
        try await Self.fill(server, target, rows: 20_000, keyType: keyType)
        let number = keyType == "BIGINT" ? "id" : "CAST(SUBSTRING(id, 2) AS UNSIGNED)"
        try await server.sql(target, """
            DELETE FROM events WHERE \(number) <= 400 OR \(number) BETWEEN 9801 AND 10200 OR \(number) > 19600;
            UPDATE events SET note = 'changed' WHERE \(number) = 15555;
            UPDATE events SET note = NULL WHERE \(number) = 12346;
            UPDATE events SET amount = amount + 1 WHERE \(number) % 250 = 3;
            """)
        let missing = 1_200
        let different = Int(try await server.sql(target, "SELECT COUNT(*) FROM events WHERE \(number) % 250 = 3 AND amount IS NOT NULL"))! + 2
        try Self.writeJob(dir, server, source: source, target: target)

        let plan = try await Binary.run(["plan", "job.yaml"], in: dir)
        #expect(plan.stdout.contains("only rows whose hashes differ are read"), "\(plan.stdout)")

        let verify = try await Binary.run(["verify", "job.yaml", "--json"], in: dir)
        #expect(verify.status == 3, "\(verify.stdout)\n\(verify.stderr)")
        #expect(Self.number("missing", in: verify.stdout) == missing, "\(verify.stdout)")
        #expect(Self.number("different", in: verify.stdout) == different, "\(verify.stdout)")
        #expect(Self.number("extra", in: verify.stdout) == 0, "\(verify.stdout)")

        let run = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.number("inserted", in: run.stdout) == missing, "\(run.stdout)")
        #expect(Self.number("updated", in: run.stdout) == different, "\(run.stdout)")
        #expect(Self.number("unchanged", in: run.stdout) == 20_000 - missing - different, "\(run.stdout)")
        #expect(Self.number("shippedRows", in: run.stdout) == missing + different, "only the differing rows leave the source\n\(run.stdout)")
        #expect((Self.number("sourceHashBytes", in: run.stdout) ?? 0) > 0, "\(run.stdout)")
        #expect(
            try await server.fingerprint(source, table: "events", columns: Self.columns)
                == server.fingerprint(target, table: "events", columns: Self.columns))

        let rerun = try await Binary.run(["run", "job.yaml", "--json", "--log-level", "debug", "--log-format", "json"], in: dir)
        #expect(Self.number("unchanged", in: rerun.stdout) == 20_000, "\(rerun.stdout)")
        #expect(Self.number("shippedRows", in: rerun.stdout) == 0, "\(rerun.stdout)")
        // Each chunk: its first window compared by hashes, found equal, then the rest of the chunk
        // settled by one count and checksum per side — not window by window.
        let windows = PostgresDiffFirstTests.Shipping(log: rerun.stderr).hashBatches
        let restsCompared = rerun.stderr.components(separatedBy: "chunk already equal on both sides; not read").count - 1
        let report = try JSONSerialization.jsonObject(with: Data(rerun.stdout.utf8)) as? [String: Any]
        let chunks = (report?["chunks"] as? [Any])?.count ?? 0
        #expect(restsCompared > 0 && windows <= chunks, "\(windows) windows, \(restsCompared) rests compared, \(chunks) chunks")
        let equal = try await Binary.run(["verify", "job.yaml"], in: dir)
        #expect(equal.status == 0, "\(equal.stdout)\n\(equal.stderr)")
    }

    @Test("tables that declare different types (DECIMAL(12,2) beside DECIMAL(14,4)) take the row path, say why, and verify compares their values, not their text")
    func differentTypes() async throws {
        let server = try MySQLRunTests.server()
        let dir = try Fixtures.temporaryDirectory("mysql-diff-types")
        let source = try await server.createDatabase("src")
        let target = try await server.createDatabase("dst")
        try await Self.fill(server, source, rows: 3_000, keyType: "BIGINT")
        try await Self.fill(server, target, rows: 3_000, keyType: "BIGINT", amount: "DECIMAL(14,4)")
        try await server.sql(target, "DELETE FROM events WHERE id % 100 = 1; UPDATE events SET amount = amount + 0.0001 WHERE id = 2222;")
        try Self.writeJob(dir, server, source: source, target: target)
        let plan = try await Binary.run(["plan", "job.yaml"], in: dir)
        #expect(plan.stdout.contains("the tables declare different column types"), "\(plan.stdout)")

        let verify = try await Binary.run(["verify", "job.yaml", "--json"], in: dir)
        #expect(verify.status == 3, "\(verify.stdout)\n\(verify.stderr)")
        #expect(Self.number("missing", in: verify.stdout) == 30, "\(verify.stdout)")
        #expect(Self.number("different", in: verify.stdout) == 1, "1.25 and 1.2500 are equal; 2777.5 and 2777.5001 are not\n\(verify.stdout)")

        let run = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.number("inserted", in: run.stdout) == 30, "\(run.stdout)")
        #expect(Self.number("updated", in: run.stdout) == 1, "\(run.stdout)")
        #expect(try await Binary.run(["verify", "job.yaml"], in: dir).status == 0)
    }
    @Test("every digit of a FLOAT (which prints 6) is copied and compared; latin1 'Ã©' and utf8mb4 'é' (the same two bytes) are different text")
    func floatsAndCharsets() async throws {
        let server = try MySQLRunTests.server()
        let dir = try Fixtures.temporaryDirectory("mysql-float")
        let source = try await server.createDatabase("src")
        let target = try await server.createDatabase("dst")
        try await server.sql(source, """
            CREATE TABLE f (id BIGINT PRIMARY KEY, x FLOAT, note VARCHAR(10) CHARACTER SET latin1);
            INSERT INTO f VALUES (1, 1234567, 'a'), (2, 0.1, 'Ã©'), (3, 16777215, NULL);
            """)
        try await server.sql(target, """
            CREATE TABLE f (id BIGINT PRIMARY KEY, x FLOAT, note VARCHAR(10) CHARACTER SET utf8mb4);
            INSERT INTO f VALUES (1, 1234568, 'a'), (2, 0.1, 'é');
            """)
        try """
            name: f
            source: { mysql: "\(server.dsn(source))", table: f }
            target: { mysql: "\(server.dsn(target))", table: f }
            key: [id]
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let verify = try await Binary.run(["verify", "job.yaml", "--json"], in: dir)
        #expect(verify.status == 3, "\(verify.stdout)\n\(verify.stderr)")
        #expect(Self.number("missing", in: verify.stdout) == 1, "\(verify.stdout)")
        #expect(Self.number("different", in: verify.stdout) == 2, "1234567 against 1234568, 'Ã©' against 'é'\n\(verify.stdout)")
        let run = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.number("inserted", in: run.stdout) == 1, "\(run.stdout)")
        #expect(Self.number("updated", in: run.stdout) == 2, "\(run.stdout)")
        #expect(try await server.sql(target, "SELECT GROUP_CONCAT(x + 0E0 ORDER BY id) FROM f") == "1234567,0.10000000149011612,16777215")
        #expect(try await server.sql(target, "SELECT HEX(note) FROM f WHERE id = 2") == "C383C2A9")
        #expect(try await Binary.run(["verify", "job.yaml"], in: dir).status == 0)
        let rerun = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(Self.number("unchanged", in: rerun.stdout) == 3, "\(rerun.stdout)")
    }
}
