import BackfillTesting
import Foundation
import Testing

/// The real binary against the MariaDB server `scripts/test.sh` starts: SQLite ↔ MySQL and
/// MySQL → MySQL runs on every key kind, exact counters, reruns that write nothing, `verify`,
/// quarantine of rows the target refuses, `newer-wins`, and bad inputs.
@Suite(.serialized) struct MySQLRunTests {
    static func server() throws -> MariaDBFixture {
        guard let server = MariaDBFixture.server else { throw FixtureError("no MariaDB server (run scripts/test.sh)") }
        return server
    }

    /// The fixture table's columns in MySQL, keyed as `kind`.
    static func ddl(_ kind: KeyKind, name: String = "items", nameType: String = "VARCHAR(200)") -> String {
        let columns = "name \(nameType) NOT NULL, amount BIGINT, price DOUBLE, note TEXT, updated_at VARCHAR(32) NOT NULL"
        switch kind {
        case .integer: return "CREATE TABLE \(name) (id BIGINT PRIMARY KEY, \(columns))"
        case .text: return "CREATE TABLE \(name) (id VARCHAR(64) PRIMARY KEY, \(columns))"
        case .composite: return "CREATE TABLE \(name) (tenant BIGINT NOT NULL, id BIGINT NOT NULL, \(columns), PRIMARY KEY (tenant, id))"
        }
    }

    /// A number of a run's `--json` summary (its `counters`, not a chunk's) or of verify's report.
    static func counter(_ name: String, in json: String) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        let counters = object["counters"] as? [String: Any] ?? object
        return (counters[name] as? NSNumber)?.intValue
    }

    @Test("SQLite → MySQL on every key kind: filled, damage repaired exactly, rerun writes nothing, verify equal", arguments: KeyKind.allCases)
    func sqliteToMySQL(kind: KeyKind) async throws {
        let server = try Self.server()
        let dir = try Fixtures.temporaryDirectory("mysql-\(kind)")
        try Fixtures.makeSource(path: dir + "/source.db", kind: kind, rows: 3_000)
        let database = try await server.createDatabase("dst")
        try await server.sql(database, Self.ddl(kind))
        let spec = Fixtures.spec(kind: kind).replacingOccurrences(
            of: "target: { sqlite: target.db, table: items }", with: "target: { mysql: \"\(server.dsn(database))\", table: items }")
        try spec.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)

        let first = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(Self.counter("inserted", in: first.stdout) == 3_000, "\(first.stdout)")
        #expect(try await server.sql(database, "SELECT COUNT(*) FROM items") == "3000")

        // Damage: 100 rows lost, 50 stale (an older version), 25 with another amount at the same version.
        try await server.sql(database, """
            DELETE FROM items ORDER BY \(kind.keyColumns.joined(separator: ", ")) LIMIT 100;
            UPDATE items SET amount = amount + 1, updated_at = '2020-01-01T00:00:00Z' ORDER BY \(kind.keyColumns.joined(separator: ", ")) DESC LIMIT 50;
            UPDATE items SET note = 'changed' WHERE amount % 100 = 7 AND updated_at <> '2020-01-01T00:00:00Z' LIMIT 25;
            """)
        let verifyDamaged = try await Binary.run(["verify", "job.yaml"], in: dir)
        #expect(verifyDamaged.status != 0, "verify must find the damage\n\(verifyDamaged.stdout)")

        let repair = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(repair.status == 0, "\(repair.stderr)")
        #expect(Self.counter("inserted", in: repair.stdout) == 100, "\(repair.stdout)")
        #expect(Self.counter("updated", in: repair.stdout) == 75, "\(repair.stdout)")
        #expect(Self.counter("unchanged", in: repair.stdout) == 2_825, "\(repair.stdout)")

        let rerun = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(Self.counter("unchanged", in: rerun.stdout) == 3_000, "\(rerun.stdout)")
        #expect(Self.counter("inserted", in: rerun.stdout) == 0)
        #expect(Self.counter("updated", in: rerun.stdout) == 0)

        let verify = try await Binary.run(["verify", "job.yaml"], in: dir)
        #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
    }

    @Test("MySQL → SQLite: DECIMAL, DATETIME(6), DOUBLE, FLOAT, binary strings, NULLs and hostile text arrive exactly; verify equal")
    func mysqlToSQLite() async throws {
        let server = try Self.server()
        let dir = try Fixtures.temporaryDirectory("mysql-src")
        let database = try await server.createDatabase("src")
        try await server.sql(database, """
            CREATE TABLE orders (id BIGINT PRIMARY KEY, amount DECIMAL(12,2), at DATETIME(6), ratio DOUBLE, small FLOAT,
              data VARBINARY(64), note TEXT, day DATE, updated BIGINT NOT NULL);
            INSERT INTO orders
              SELECT seq, IF(seq % 11 = 0, NULL, seq * 1.25), TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq * 1500001 MICROSECOND,
                     seq / 3, seq / 7, UNHEX(MD5(seq)), IF(seq % 5 = 0, CONCAT('quote''s "x"\\n', CHAR(9), '🙂 ', seq), CONCAT('n', seq)),
                     DATE('2024-01-01') + INTERVAL seq DAY, seq
              FROM seq_1_to_2000;
            """)
        try Fixtures.execute(path: dir + "/target.db", """
            CREATE TABLE orders (id INTEGER PRIMARY KEY, amount NUMERIC, at TEXT, ratio REAL, small REAL, data BLOB, note TEXT, day TEXT, updated INTEGER NOT NULL);
            """)
        try """
            name: orders
            source: { mysql: "\(server.dsn(database))", table: orders }
            target: { sqlite: target.db, table: orders }
            key: [id]
            conflict: { newer-wins: updated }
            batch: { size: 300 }
            workers: 2
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let first = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(Self.counter("inserted", in: first.stdout) == 2_000, "\(first.stdout)")
        #expect(try Fixtures.text(path: dir + "/target.db", "SELECT at FROM orders WHERE id = 3") == "2024-01-01 00:00:04.500003")
        #expect(try Fixtures.text(path: dir + "/target.db", "SELECT note FROM orders WHERE id = 5") == "quote's \"x\"\n\t🙂 5")
        #expect(try Fixtures.text(path: dir + "/target.db", "SELECT hex(data) FROM orders WHERE id = 1") == "C4CA4238A0B923820DCC509A6F75849B")
        let verify = try await Binary.run(["verify", "job.yaml"], in: dir)
        #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
        let rerun = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(Self.counter("unchanged", in: rerun.stdout) == 2_000, "\(rerun.stdout)")
    }

    @Test("MySQL → MySQL: BINARY(16) UUID keys and case-insensitive text keys read in byte order, batch by batch; rerun writes nothing")
    func mysqlToMySQLKeys() async throws {
        let server = try Self.server()
        let dir = try Fixtures.temporaryDirectory("mysql-keys")
        let source = try await server.createDatabase("src")
        let target = try await server.createDatabase("dst")
        let tables = """
            CREATE TABLE uuids (id BINARY(16) PRIMARY KEY, n BIGINT NOT NULL, amount DECIMAL(10,3));
            CREATE TABLE words (w VARCHAR(20) COLLATE utf8mb4_general_ci PRIMARY KEY, n BIGINT NOT NULL);
            CREATE TABLE latin (w VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin PRIMARY KEY, n BIGINT NOT NULL);
            CREATE TABLE big (id BIGINT UNSIGNED PRIMARY KEY, n BIGINT NOT NULL);
            """
        try await server.sql(source, tables + """
            INSERT INTO uuids SELECT UNHEX(MD5(seq)), seq, seq / 8 FROM seq_1_to_1500;
            INSERT INTO words VALUES ('apple', 1), ('Banana', 2), ('cherry', 3), ('Date', 4), ('éclair', 5), ('Zebra', 6), ('_under', 7);
            INSERT INTO latin VALUES ('z', 1), ('é', 2), ('a', 3), ('Ö', 4), ('e', 5);
            INSERT INTO big VALUES (1, 1), (9223372036854775807, 2), (9223372036854775808, 3), (18446744073709551615, 4);
            """)
        try await server.sql(target, tables + "INSERT INTO words VALUES ('banana', 20);")
        for (table, key, size) in [("uuids", "id", 100), ("words", "w", 2), ("latin", "w", 1), ("big", "id", 1)] {
            try """
                name: \(table)
                source: { mysql: "\(server.dsn(source))", table: \(table) }
                target: { mysql: "\(server.dsn(target))", table: \(table) }
                key: [\(key)]
                batch: { size: \(size), min: 1 }
                workers: 2
                """.write(toFile: dir + "/\(table).yaml", atomically: true, encoding: .utf8)
        }
        let uuids = try await Binary.run(["run", "uuids.yaml", "--json"], in: dir)
        #expect(uuids.status == 0, "\(uuids.stderr)")
        #expect(Self.counter("inserted", in: uuids.stdout) == 1_500, "\(uuids.stdout)")
        let fingerprint = "id, n, amount"
        #expect(
            try await server.fingerprint(source, table: "uuids", columns: fingerprint)
                == server.fingerprint(target, table: "uuids", columns: fingerprint))
        let again = try await Binary.run(["run", "uuids.yaml", "--json"], in: dir)
        #expect(Self.counter("unchanged", in: again.stdout) == 1_500, "\(again.stdout)")
        #expect(try await Binary.run(["verify", "uuids.yaml"], in: dir).status == 0)

        // 'Banana' and the target's 'banana' are one key to the collation: the server pairs them,
        // and the row takes the source's bytes (key included).
        let words = try await Binary.run(["run", "words.yaml", "--json"], in: dir)
        #expect(words.status == 0, "\(words.stderr)")
        #expect(Self.counter("inserted", in: words.stdout) == 6, "\(words.stdout)")
        #expect(Self.counter("updated", in: words.stdout) == 1, "\(words.stdout)")
        #expect(try await server.sql(target, "SELECT COUNT(*) FROM words") == "7")
        #expect(try await server.sql(target, "SELECT SUM(n) FROM words") == "28")
        #expect(try await server.sql(target, "SELECT HEX(w) FROM words WHERE n = 2") == "42616E616E61")  // 'Banana'
        #expect(try await Binary.run(["verify", "words.yaml"], in: dir).status == 0)
        let wordsAgain = try await Binary.run(["run", "words.yaml", "--json"], in: dir)
        #expect(Self.counter("unchanged", in: wordsAgain.stdout) == 7, "\(wordsAgain.stdout)")

        // A latin1 key paged one row at a time: 'é' is one byte there, compared as its UTF-8 bytes.
        let latin = try await Binary.run(["run", "latin.yaml", "--json"], in: dir)
        #expect(latin.status == 0, "\(latin.stderr)")
        #expect(Self.counter("inserted", in: latin.stdout) == 5, "\(latin.stdout)")
        #expect(try await server.sql(target, "SELECT GROUP_CONCAT(n ORDER BY n) FROM latin") == "1,2,3,4,5")
        #expect(try await Binary.run(["verify", "latin.yaml"], in: dir).status == 0)

        // BIGINT UNSIGNED keys beyond Int64, paged one row at a time: each read once, none skipped.
        let big = try await Binary.run(["run", "big.yaml", "--json"], in: dir)
        #expect(big.status == 0, "\(big.stderr)")
        #expect(Self.counter("inserted", in: big.stdout) == 4, "\(big.stdout)")
        #expect(try await server.sql(target, "SELECT GROUP_CONCAT(id ORDER BY id) FROM big") == "1,9223372036854775807,9223372036854775808,18446744073709551615")
        let bigAgain = try await Binary.run(["run", "big.yaml", "--json"], in: dir)
        #expect(Self.counter("unchanged", in: bigAgain.stdout) == 4, "\(bigAgain.stdout)")
    }

    @Test("rows the MySQL target refuses are quarantined with the reason; newer rows in the target are kept (newer-wins)")
    func quarantineAndNewerWins() async throws {
        let server = try Self.server()
        let dir = try Fixtures.temporaryDirectory("mysql-refused")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .integer, rows: 1_000)
        // Every 100th name is made too long for the target's VARCHAR(12).
        try Fixtures.execute(path: dir + "/source.db", "UPDATE items SET name = 'a name far too long ' || id WHERE id % 100 = 0")
        let database = try await server.createDatabase("dst")
        // A second unique index: source row 7's name is taken by another row of the target, which
        // must neither be overwritten nor merged with it.
        try await server.sql(database, Self.ddl(.integer, nameType: "VARCHAR(12)") + """
            ; CREATE UNIQUE INDEX by_name ON items (name);
            INSERT INTO items VALUES (5, 'kept', 1, 1, NULL, '2999-01-01T00:00:00Z'), (5000, 'name 7', 1, 1, NULL, '2000-01-01T00:00:00Z');
            """)
        let spec = Fixtures.spec(kind: .integer).replacingOccurrences(
            of: "target: { sqlite: target.db, table: items }", with: "target: { mysql: \"\(server.dsn(database))\", table: items }")
        try spec.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let run = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(run.status == 5, "quarantined rows: exit 5\n\(run.stderr)")
        #expect(Self.counter("quarantined", in: run.stdout) == 11, "\(run.stdout)")
        #expect(Self.counter("skipped", in: run.stdout) == 1, "\(run.stdout)")
        #expect(Self.counter("inserted", in: run.stdout) == 988, "\(run.stdout)")
        #expect(try await server.sql(database, "SELECT name FROM items WHERE id = 5") == "kept")
        #expect(try await server.sql(database, "SELECT id FROM items WHERE name = 'name 7'") == "5000")
        #expect(try await server.sql(database, "SELECT COUNT(*) FROM items WHERE id = 7") == "0")
        let quarantine = try await Binary.run(["quarantine", "1"], in: dir)
        #expect(quarantine.stdout.contains("Data too long"), "\(quarantine.stdout)")
        #expect(quarantine.stdout.contains("Duplicate entry … for key 'by_name'"), "\(quarantine.stdout)")
        #expect(!quarantine.stdout.contains("'name 7'"), "the server's message without the value: \(quarantine.stdout)")
    }

    @Test("newer-wins on DATETIME(3) versions within one second: .250 is newer than .000 and .5 older than .55; an offset is applied first")
    func newerWinsWithinASecond() async throws {
        let server = try Self.server()
        let dir = try Fixtures.temporaryDirectory("mysql-subsecond")
        try Fixtures.execute(path: dir + "/source.db", """
            CREATE TABLE v (id INTEGER PRIMARY KEY, note TEXT NOT NULL, updated TEXT NOT NULL);
            INSERT INTO v VALUES (1, 'source', '2024-01-01 10:00:00.250'), (2, 'source', '2024-01-01 10:00:00.500'),
              (3, 'source', '2024-01-01 15:30:00.1+05:30'), (4, 'source', '2024-01-01 10:00:01');
            """)
        let database = try await server.createDatabase("dst")
        try await server.sql(database, """
            CREATE TABLE v (id BIGINT PRIMARY KEY, note VARCHAR(20) NOT NULL, updated DATETIME(3) NOT NULL);
            INSERT INTO v VALUES (1, 'target', '2024-01-01 10:00:00.000'), (2, 'target', '2024-01-01 10:00:00.550'),
              (3, 'target', '2024-01-01 10:00:00.050'), (4, 'target', '2024-01-01 10:00:00.999');
            """)
        try """
            name: subsecond
            source: { sqlite: source.db, table: v }
            target: { mysql: "\(server.dsn(database))", table: v }
            key: [id]
            conflict: { newer-wins: updated }
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let run = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.counter("updated", in: run.stdout) == 3 && Self.counter("skipped", in: run.stdout) == 1, "\(run.stdout)")
        #expect(try await server.sql(database, "SELECT GROUP_CONCAT(CONCAT(note, ' ', updated) ORDER BY id SEPARATOR ', ') FROM v")
            == "source 2024-01-01 10:00:00.250, target 2024-01-01 10:00:00.550, source 2024-01-01 10:00:00.100, source 2024-01-01 10:00:01.000")
        let rerun = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(Self.counter("unchanged", in: rerun.stdout) == 3 && Self.counter("skipped", in: rerun.stdout) == 1, "\(rerun.stdout)")
    }

    @Test("bad MySQL inputs exit 2 naming the cause, never the password: refused port, missing table, unknown DSN parameter, no unique key")
    func badInputs() async throws {
        let server = try Self.server()
        let dir = try Fixtures.temporaryDirectory("mysql-bad")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .integer, rows: 10)
        let database = try await server.createDatabase("dst")
        try await server.sql(database, "CREATE TABLE nokey (id BIGINT, name TEXT, amount BIGINT, price DOUBLE, note TEXT, updated_at TEXT)")
        let closedPort = "mysql://root:hunter2secret@127.0.0.1:1/\(database)?ssl-mode=disabled&connect-timeout=5"
        let cases: [(target: String, message: String)] = [
            ("{ mysql: \"\(closedPort)\", table: items }", "127.0.0.1:1"),
            ("{ mysql: \"\(server.dsn(database, password: "hunter2secret"))\", table: items }", "Access denied"),
            ("{ mysql: \"\(server.dsn(database))\", table: nope }", "table nope does not exist"),
            ("{ mysql: \"\(server.dsn(database))&colour=blue\", table: items }", "unknown connection parameter 'colour'"),
            ("{ mysql: \"\(server.dsn(database))\", table: nokey }", "no primary key or unique index"),
        ]
        for (target, message) in cases {
            let spec = Fixtures.spec(kind: .integer).replacingOccurrences(of: "target: { sqlite: target.db, table: items }", with: "target: \(target)")
            try spec.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
            let result = try await Binary.run(["run", "job.yaml"], in: dir)
            #expect(result.status == 2, "\(target): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(target): \(result.stderr)")
            #expect(!(result.stdout + result.stderr).contains("hunter2secret"))
        }
    }
}
