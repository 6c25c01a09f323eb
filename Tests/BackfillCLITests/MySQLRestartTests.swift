import BackfillTesting
import Foundation
import Testing

/// The MySQL target's server restarted mid-run, on a MariaDB server of the test's own.
@Suite(.enabled(if: MariaDBFixture.server != nil, "needs MariaDB, which scripts/test.sh installs"), .timeLimit(.minutes(8)))
struct MySQLRestartTests {
    @Test("a restart of the MySQL target mid-run: the batch in flight is cut, retried and counted, and the run completes with the target equal to the source")
    func targetRestartMidRun() async throws {
        let mariadb = try await PrivateMariaDB.start()
        do {
            let server = mariadb.server
            let dir = try Fixtures.temporaryDirectory("mysql-restart")
            try Fixtures.makeSource(path: dir + "/source.db", kind: .integer, rows: 6_000)
            let database = try await server.createDatabase("dst")
            try await server.sql(database, MySQLRunTests.ddl(.integer))
            // A lock wait longer than the test, so that only the restart ends the wait below.
            let target = "\(server.dsn(database))&lock-wait-timeout=40"
            let spec = Fixtures.spec(kind: .integer, extra: "limits: { backoff: 200ms }").replacingOccurrences(
                of: "target: { sqlite: target.db, table: items }", with: "target: { mysql: \"\(target)\", table: items }")
            try spec.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
            let fill = try await Binary.run(["run", "job.yaml"], in: dir)
            #expect(fill.status == 0, "\(fill.stderr)")
            try await server.sql(database, "UPDATE items SET amount = amount + 1 WHERE id = 7; DELETE FROM items WHERE id BETWEEN 2001 AND 4000;")

            // A session of the application holds row 7, which the first batch locks: the backfill's
            // write waits on it — in flight — until the restart cuts both.
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            holder.arguments = [
                "mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", String(mariadb.port), "-u", "root", database,
                "-e", "BEGIN; SELECT id FROM items WHERE id = 7 FOR UPDATE; SELECT SLEEP(600)",
            ]
            holder.standardInput = FileHandle.nullDevice
            holder.standardOutput = FileHandle.nullDevice
            holder.standardError = FileHandle.nullDevice
            try holder.run()
            defer { if holder.isRunning { holder.terminate() } }
            // The event: the holder has the lock (and sleeps).
            while try await server.sql(nil, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP%'") == "0" {
                try await Task.sleep(for: .milliseconds(20))
            }
            let process = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log")
            // The event: the backfill's locking read of the batch is in flight (MariaDB lists a
            // transaction that has only read in no INNODB_TRX view; the processlist shows the statement).
            var waiting = "0"
            while waiting == "0" && process.isRunning {
                waiting = try await server.sql(
                    nil, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '\(database)' AND INFO LIKE 'SELECT%FOR UPDATE'")
            }
            #expect(waiting != "0", "no write of the backfill was seen waiting")
            try await mariadb.shutDown()
            try await mariadb.startAgain()
            await Binary.wait(process)
            let log = (try? String(contentsOfFile: dir + "/run.log", encoding: .utf8)) ?? ""
            #expect(process.terminationStatus == 0, "the run failed; its log ends:\n\(log.suffix(3000))")
            let retries = try Fixtures.integer(path: dir + "/.backfill/state.db", "SELECT retries FROM runs ORDER BY id DESC LIMIT 1")
            #expect(retries > 0, "the restart cut a waiting write, but nothing was retried; see \(dir)/run.log")
            #expect(try await server.sql(database, "SELECT COUNT(*) FROM items") == "6000")
            let verify = try await Binary.run(["verify", "job.yaml"], in: dir)
            #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
        } catch {
            await mariadb.stop()
            throw error
        }
        await mariadb.stop()
    }
}
