import BackfillTesting
import Foundation
import Testing

/// `health.replica-lag` on a MySQL target, read with `SHOW REPLICA STATUS` on the replicas
/// `health.replicas` lists — against the replica `scripts/test.sh` starts beside the server.
@Suite(.serialized) struct MySQLReplicaLagTests {
    static func replica() throws -> MariaDBFixture {
        guard let replica = MariaDBFixture.replica else { throw FixtureError("no MariaDB replica (run scripts/test.sh)") }
        return replica
    }

    /// A SQLite source of `rows` rows and a MySQL target table in a new database; the spec's
    /// `health` block is `health`.
    static func workspace(rows: Int, health: String) async throws -> (dir: String, database: String) {
        let server = try MySQLRunTests.server()
        let dir = try Fixtures.temporaryDirectory("mysql-replica")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .integer, rows: rows)
        let database = try await server.createDatabase("dst")
        try await server.sql(database, MySQLRunTests.ddl(.integer))
        let spec = Fixtures.spec(kind: .integer).replacingOccurrences(
            of: "target: { sqlite: target.db, table: items }", with: "target: { mysql: \"\(server.dsn(database))\", table: items }")
        try (spec + "\nhealth: \(health)\n").write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        return (dir, database)
    }

    static func log(_ dir: String) -> String { (try? String(contentsOfFile: dir + "/run.log", encoding: .utf8)) ?? "" }

    @Test("a replica whose applier is stopped: the run waits and says why (the replica reports no lag), and goes on once it applies again; the replica ends equal to the source")
    func stoppedApplier() async throws {
        let replica = try Self.replica()
        let replicaDSN = "mysql://\(replica.user)@\(replica.host):\(replica.port)/mysql?ssl-mode=disabled"
        let (dir, database) = try await Self.workspace(rows: 3_000, health: "{ replica-lag: 2s, replicas: [\"\(replicaDSN)\"] }")
        // The event: the replica has applied the new table.
        while (try? await replica.sql(database, "SELECT COUNT(*) FROM items")) != "0" { try await Task.sleep(for: .milliseconds(50)) }
        try await replica.sql(nil, "STOP SLAVE SQL_THREAD")
        do {
            let process = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log")
            _ = try await RunLifecycleTests.waitUntil({ Self.log(dir).contains("reports no lag") || !process.isRunning }, then: { () })
            #expect(process.isRunning, "the run waits while the replica applies nothing: \(Self.log(dir).suffix(2000))")
            #expect(Self.log(dir).contains("replica \(replica.host):\(replica.port) reports no lag: its SQL thread is No"), "\(Self.log(dir).suffix(2000))")
            let status = try await Binary.run(["status", "1"], in: dir)
            #expect(status.stdout.contains("replica-lag"), "\(status.stdout)")
            #expect(try await MySQLRunTests.server().sql(database, "SELECT COUNT(*) FROM items") == "0", "nothing written while it waits")
            try await replica.sql(nil, "START SLAVE SQL_THREAD")
            await Binary.wait(process)
            #expect(process.terminationStatus == 0, "\(Self.log(dir).suffix(2000))")
        } catch {
            try? await replica.sql(nil, "START SLAVE SQL_THREAD")
            throw error
        }
        // The event: the replica has applied the run's writes.
        while (try? await replica.sql(database, "SELECT COUNT(*) FROM items")) != "3000" { try await Task.sleep(for: .milliseconds(50)) }
        let columns = "id, name, amount, price, note, updated_at"
        #expect(
            try await replica.fingerprint(database, table: "items", columns: columns)
                == MySQLRunTests.server().fingerprint(database, table: "items", columns: columns))
    }

    @Test("health.replica-lag on a MySQL target without replicas, a replica that is no mysql:// DSN, an unreachable replica: exit 2 naming the field, never the password")
    func badReplicas() async throws {
        let cases: [(health: String, message: String)] = [
            ("{ replica-lag: 2s }", "list them in health.replicas"),
            ("{ replica-lag: 2s, replicas: [\"postgres://u:hunter2secret@h/db\"] }", "expected mysql:// DSNs"),
            ("{ replica-lag: 2s, replicas: [\"mysql://root:hunter2secret@127.0.0.1:1/mysql?ssl-mode=disabled&connect-timeout=5\"] }", "health.replicas"),
            ("{ replicas: [\"mysql://root@127.0.0.1:1/mysql\"] }", "health.replica-lag, which is not set"),
        ]
        for (health, message) in cases {
            let (dir, _) = try await Self.workspace(rows: 10, health: health)
            let result = try await Binary.run(["run", "job.yaml"], in: dir)
            #expect(result.status == 2, "\(health): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(health): \(result.stderr)")
            #expect(!(result.stdout + result.stderr).contains("hunter2secret"), "\(result.stderr)")
        }
    }
}
