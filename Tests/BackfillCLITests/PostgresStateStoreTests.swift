import BackfillTesting
import Foundation
import Testing

/// `state: postgres://…`: the runs, chunks and counters live in PostgreSQL.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresStateStoreTests {
    @Test("kill -9 mid-run with the state in PostgreSQL: the rerun resumes the same run and the target equals the source")
    func resumesFromAPostgresStateStore() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 30_000, extra: "limits: { rows-per-second: 2000 }")
        let server = workspace.server
        let stateDatabase = try await server.createDatabase("state")
        let stateDSN = server.dsn(stateDatabase)
        try workspace.writeSpec(extra: "limits: { rows-per-second: 2000 }\nstate: \"\(stateDSN)\"")
        // The event: a dozen batches (6,000 rows) committed, as the run's own debug log says —
        // read from a local file, which a loaded machine cannot refuse (a psql poll per check
        // can fail or stall for the whole run: CI once saw the run end before any poll answered).
        let process = try Binary.launch(["run", "job.yaml", "--log-level", "debug"], in: workspace.dir, log: "first.log")
        let logPath = workspace.dir + "/first.log"
        let committed: @Sendable () -> Int = {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").components(separatedBy: "batch committed").count - 1
        }
        _ = try await RunLifecycleTests.waitUntil({ committed() >= 12 || !process.isRunning }, then: { () })
        let observed = "\(committed()) batches committed"
        kill(process.processIdentifier, SIGKILL)
        await Binary.wait(process)
        let log = (try? String(contentsOfFile: workspace.dir + "/first.log", encoding: .utf8)) ?? ""
        let runStatus = try await server.psql(stateDatabase, "SELECT status FROM backfill.runs")
        #expect(runStatus == "running", "status \(runStatus), \(observed) when killed; the first process's log: \(log.suffix(3_000))")

        try workspace.writeSpec(extra: "state: \"\(stateDSN)\"")
        let (result, report) = try await workspace.run()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report?["read"] == 30_000, "the same run goes on: \(report?.counters ?? [:])")
        let runs = try await server.psql(stateDatabase, "SELECT count(*) || ' ' || max(status) FROM backfill.runs")
        #expect(runs == "1 completed", "\(runs)")
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
        let writes = try await server.psql(workspace.target, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes")
        #expect(writes == "6000,6000")

        let status = try await Binary.run(["status", "--state", stateDSN], in: workspace.dir)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("completed"))
        // Both processes sampled the run's totals: the report's series ends at every row read.
        let reported = try await Binary.run(["report", "1", "--json", "--state", stateDSN], in: workspace.dir)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(reported.stdout.utf8)) as? [String: Any], "\(reported.stderr)")
        let series = try #require(document["series"] as? [[String: Any]])
        #expect(series.count >= 2 && series.last?["read"] as? Int == 30_000, "\(series)")
        #expect((document["checkpoints"] as? Int ?? 0) > 0 && document["batchSizes"] is [String: Any])
        let missing = try await Binary.run(["status", "--state", server.dsn("postgres")], in: workspace.dir)
        #expect(missing.status == 2 && missing.stderr.contains("no backfill state store"))
    }

    @Test("state in the target database: rows and checkpoint commit together, so a kill -9 during a checkpoint leaves every row counted exactly once")
    func checkpointsCommitWithTheRows() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 30_000)
        let server = workspace.server
        let stateDSN = server.dsn(workspace.target)
        // Another session holds an advisory lock that every checkpoint waits for (a trigger,
        // installed once the run has created its state tables): the kill lands inside a checkpoint,
        // whenever the test gets to it. With a separate checkpoint the batch's rows would stay
        // written but uncounted, and the rerun would count them as unchanged.
        let holder = try await PostgresSession.holdingAdvisoryLock(server, database: workspace.target, key: 4242)
        try workspace.writeSpec(extra: "limits: { rows-per-second: 1000 }\nstate: \"\(stateDSN)\"")
        let process = try Binary.launch(["run", "job.yaml"], in: workspace.dir, log: "run.log")
        var installed = false
        for _ in 0..<600 where !installed {
            if (try? await server.psql(workspace.target, "SELECT count(*) FROM backfill.chunks")).flatMap(Int.init) ?? 0 > 0 {
                try await server.psql(workspace.target, """
                    CREATE FUNCTION held_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; END $$;
                    CREATE TRIGGER held_checkpoint BEFORE UPDATE ON backfill.chunks FOR EACH ROW
                      WHEN (NEW.last_checkpoint IS DISTINCT FROM OLD.last_checkpoint) EXECUTE FUNCTION held_checkpoint();
                    """)
                installed = true
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(installed, "the run never created its state tables")
        // Waits for the event (a checkpoint waiting for the lock); the bound is a safety net.
        var inCheckpoint = false
        for _ in 0..<3_000 where !inCheckpoint {
            let waiting = try await server.psql(
                "postgres", """
                    SELECT count(*) FROM pg_stat_activity WHERE application_name = 'backfill' AND wait_event_type = 'Lock'
                      AND query LIKE '%UPDATE backfill.chunks SET cursor%'
                    """)
            inCheckpoint = waiting != "0"
        }
        #expect(inCheckpoint, "no checkpoint was seen waiting")
        kill(process.processIdentifier, SIGKILL)
        await Binary.wait(process)
        #expect(try String(contentsOfFile: workspace.dir + "/run.log", encoding: .utf8).contains("backfill.checkpoints=with-writes"))
        // The killed process's session waits on until the lock is let go; then it finds its
        // client gone and rolls back. Dropping the trigger waits for that.
        try holder.end()
        try await server.psql(workspace.target, "DROP TRIGGER held_checkpoint ON backfill.chunks")

        try workspace.writeSpec(extra: "state: \"\(stateDSN)\"")
        let (result, report) = try await workspace.run()
        #expect(result.status == 0, "\(result.stderr)")
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
        // Every damaged row was written once, and the run's counters say exactly that.
        #expect(try await server.psql(workspace.target, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes") == "6000,6000")
        #expect((report?["inserted"] ?? 0) + (report?["updated"] ?? 0) == 6_000, "\(report?.counters ?? [:])")
        #expect(report?["read"] == 30_000 && report?.balanced == true, "\(report?.counters ?? [:])")
    }
}
