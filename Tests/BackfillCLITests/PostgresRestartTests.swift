import BackfillTesting
import Foundation
import Testing

@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresRestartTests {
    @Test(
        "pg_ctl restart of the target mid-run: the batch in flight is retried, counted in the run's retries, and the run completes with the target equal to the source",
        arguments: [false, true])
    func targetRestartMidRun(stateInTarget: Bool) async throws {
        let main = try #require(PostgresFixture.server)
        let cluster = try await PrivateCluster.start()
        let target = cluster.server
        do {
            let dir = try Fixtures.temporaryDirectory("pg-restart")
            let source = try await main.createDatabase("src")
            try await main.psql(source, PostgresWorkspace.ddl + PostgresWorkspace.rows(12_000))
            let dst = try await target.createDatabase("dst")
            try await target.psql(dst, PostgresWorkspace.ddl + PostgresWorkspace.rows(12_000) + PostgresWorkspace.damage)
            let workspace = PostgresWorkspace(server: target, dir: dir, source: source, target: dst)
            try await workspace.installWriteLog()
            try """
                name: restart
                source: { postgres: "\(main.dsn(source))", table: events }
                target: { postgres: "\(target.dsn(dst))&connect_timeout=2", table: events }
                key: [id]
                batch: { size: 1000 }
                limits: { backoff: 200ms, lock-timeout: 45s, statement-timeout: 50s }
                \(stateInTarget ? "state: \"\(target.dsn(dst))&connect_timeout=2\"" : "")
                """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
            // A session of the application holds a row of the first batch (id 7 is stale), so the
            // backfill's first write waits on it — in flight — until the restart cuts both (its lock
            // timeout outlasts a restart on a loaded machine: at 15 s it once fired first). (The
            // statement timeout also bounds the client's deadline: a pooled connection the restart
            // left dead is given up after connect + statement timeout + 5 s.)
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            holder.arguments = [
                "psql", "-X", "-q", "-h", "127.0.0.1", "-p", String(cluster.port), "-U", "postgres", "-d", dst,
                "-c", "BEGIN", "-c", "SELECT 1 FROM events WHERE id = 7 FOR UPDATE", "-c", "SELECT pg_sleep(600)",
            ]
            holder.standardInput = FileHandle.nullDevice
            holder.standardOutput = FileHandle.nullDevice
            holder.standardError = FileHandle.nullDevice
            try holder.run()
            defer { if holder.isRunning { holder.terminate() } }
            let process = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log")
            let state = dir + "/.backfill/state.db"
            var active = "0"
            while active == "0" && process.isRunning {
                active = try await target.psql(
                    "postgres",
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'backfill' AND wait_event_type = 'Lock' AND query LIKE 'WITH backfill_diff%'")
            }
            #expect(active != "0", "no write of the backfill was seen waiting")
            try await cluster.restart()
            await Binary.wait(process)
            #expect(process.terminationStatus == 0, "the run failed; its log ends:\n\((try? String(contentsOfFile: dir + "/run.log", encoding: .utf8))?.suffix(3000) ?? "")")
            // With the state in the target's database, every batch commits with its checkpoint
            // (exactly once): its retries must be counted there too.
            let retries = stateInTarget
                ? Int(try await target.psql(dst, "SELECT retries FROM backfill.runs")) ?? -1
                : try Fixtures.integer(path: state, "SELECT retries FROM runs")
            // A connection cut while a statement ran is logged with a STATEMENT line after the FATAL one;
            // idle pool connections are cut too, but only the ones in a statement must cause a retry.
            let cuts = cluster.interruptedStatements(of: "backfill")
            print("restart test: \(cuts) backfill statements cut by the restart, \(retries) retries")
            #expect(cuts > 0, "the restart cut no running backfill statement; the server logged:\n\(cluster.log)")
            #expect(retries > 0, "\(cuts) backfill statements were cut but nothing was retried; see \(dir)/run.log")
            let (s, t) = (try await main.fingerprint(source, table: "events"), try await target.fingerprint(dst, table: "events"))
            #expect(s == t)
            #expect(try await target.psql(dst, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes") == "2400,2400")
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }
}
