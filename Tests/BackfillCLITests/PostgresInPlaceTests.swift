import BackfillTesting
import Foundation
import Synchronization
import Testing

/// `mode: update-in-place`: backfilling a new column of a PostgreSQL table from an expression.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresInPlaceTests {
    static func workspace(rows: Int, extra: String = "") async throws -> (PostgresFixture, String, String) {
        let server = try #require(PostgresFixture.server)
        let dir = try Fixtures.temporaryDirectory("pg-inplace")
        let database = try await server.createDatabase("shop")
        try await server.psql(database, """
            CREATE TABLE orders(id bigint PRIMARY KEY, qty int NOT NULL, price_cents bigint NOT NULL, total_cents bigint);
            INSERT INTO orders SELECT g, g % 5, 100 + g % 7, CASE WHEN g % 3 = 0 THEN (g % 5) * (100 + g % 7) END
            FROM generate_series(1, \(rows)) g;
            """)
        try """
            name: orders-total
            source: { postgres: "\(server.dsn(database))", table: orders }
            key: [id]
            mode: update-in-place
            set: { total_cents: "qty * price_cents" }
            batch: { size: 500 }
            \(extra)
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        return (server, database, dir)
    }

    @Test("sets only the rows whose value changes; a rerun writes nothing")
    func fillsANewColumn() async throws {
        let (server, database, dir) = try await Self.workspace(rows: 6_000)
        let (first, decoded) = try await RunReport.run(in: dir)
        let report = try #require(decoded, "\(first.stderr)")
        #expect(report["updated"] == 4_000 && report["unchanged"] == 2_000, "\(first.stderr)")
        #expect(try await server.psql(database, "SELECT count(*) FROM orders WHERE total_cents IS DISTINCT FROM qty * price_cents") == "0")
        let (second, decodedRerun) = try await RunReport.run(in: dir)
        let rerun = try #require(decodedRerun, "\(second.stderr)")
        #expect(rerun["updated"] == 0 && rerun["unchanged"] == 6_000)
    }

    @Test("a row locked by the application makes its batch wait at most lock-timeout and retry; a row the table's constraint refuses is quarantined alone")
    func locksAndConstraints() async throws {
        let (server, database, dir) = try await Self.workspace(rows: 3_000, extra: "limits: { lock-timeout: 300ms, backoff: 200ms }")
        try await server.psql(database, "ALTER TABLE orders ADD CONSTRAINT small CHECK (total_cents < 500) NOT VALID")
        // Totals are at most 4 * 106 = 424; one row's price makes its total break the constraint.
        try await server.psql(database, "UPDATE orders SET price_cents = 1000 WHERE id = 1234")
        // The application's session holds row 10 until the test ends it, once the run has retried.
        let holderDone = Flag()
        let holder = Task {
            defer { holderDone.set() }
            _ = try? await server.psql(database, "BEGIN; SELECT id FROM orders WHERE id = 10 FOR UPDATE; SELECT pg_sleep(600); COMMIT;")
        }
        // The event: the holder's session sits in pg_sleep, so its row lock is taken. (psql sends the
        // statements one by one: the session's current query is the pg_sleep.)
        let holding = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(600)%' AND wait_event = 'PgSleep'"
        while !holderDone.isSet, try await server.psql(database, holding) == "0" {}
        #expect(!holderDone.isSet, "the lock holder's session ended before it held the lock")
        let run = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log")
        // The event: the batch holding row 10 hit lock-timeout and is being retried.
        var log = ""
        while run.isRunning && !log.contains("failed; retrying") {
            try await Task.sleep(for: .milliseconds(20))
            log = (try? String(contentsOfFile: dir + "/run.log", encoding: .utf8)) ?? ""
        }
        try await server.psql(database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(600)%'")
        _ = await holder.value
        await Binary.wait(run)
        log = (try? String(contentsOfFile: dir + "/run.log", encoding: .utf8)) ?? ""
        #expect(run.terminationStatus == 5, "one row quarantined: exit 5\n\(log.suffix(2000))")
        let state = dir + "/.backfill/state.db"
        #expect(try Fixtures.integer(path: state, "SELECT quarantined FROM runs") == 1, "\(log.suffix(2000))")
        #expect(try Fixtures.integer(path: state, "SELECT read - inserted - updated - unchanged - skipped - quarantined FROM runs") == 0)
        #expect(try Fixtures.integer(path: state, "SELECT retries FROM runs") > 0)
        #expect(try await server.psql(database, "SELECT count(*) FROM orders WHERE total_cents IS DISTINCT FROM qty * price_cents") == "1")
        #expect(try await server.psql(database, "SELECT total_cents FROM orders WHERE id = 10") == "0")
    }

    @Test("set: without update-in-place, and update-in-place on a SQLite source, exit 2 naming the field")
    func specMistakes() async throws {
        let dir = try Fixtures.temporaryDirectory("pg-inplace-bad")
        try Fixtures.execute(path: dir + "/db.sqlite", "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER)")
        let cases = [
            ("source: { sqlite: db.sqlite, table: t }\ntarget: { sqlite: db.sqlite, table: t }\nset: { a: \"1\" }", "set: applies only to mode: update-in-place"),
            ("source: { sqlite: db.sqlite, table: t }\nmode: update-in-place\nset: { a: \"1\" }", "updates a PostgreSQL table"),
        ]
        for (body, expected) in cases {
            try "name: bad\nkey: [id]\n\(body)\n".write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
            let result = try await Binary.run(["validate", "job.yaml"], in: dir)
            #expect(result.status == 2)
            #expect(result.stderr.contains(expected), "\(result.stderr)")
        }
    }
}

/// A flag set once, read from any task.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
