import BackfillCore
import BackfillTesting
import Foundation
import Testing

/// `backfill worker`: more processes on one run whose state is in PostgreSQL.
/// (`scripts/chaos.sh` kills, stops and cuts them off; these tests cover the command itself.)
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresWorkerTests {
    /// A damaged PostgreSQL workspace whose spec keeps its state in a database of its own (returned)
    /// and reads at most `rowsPerSecond` rows per process.
    static func sharedRun(rows: Int, rowsPerSecond: Int) async throws -> (PostgresWorkspace, String) {
        let workspace = try await PostgresWorkspace.make(rows: rows)
        let stateDatabase = try await workspace.server.createDatabase("state")
        try workspace.writeSpec(extra: "limits: { rows-per-second: \(rowsPerSecond) }\nstate: \"\(workspace.server.dsn(stateDatabase))\"")
        return (workspace, stateDatabase)
    }

    @Test("a run and two workers share one run: each chunk done once, every damaged row written once, target = source")
    func workersShareARun() async throws {
        let (workspace, stateDatabase) = try await Self.sharedRun(rows: 30_000, rowsPerSecond: 6000)
        let server = workspace.server
        let coordinator = try Binary.launch(["run", "job.yaml", "--lease", "3s"], in: workspace.dir, log: "run.log")
        let workers = try (0..<2).map { index in
            try Binary.launch(["worker", "--spec", "job.yaml", "--lease", "3s"], in: workspace.dir, log: "worker\(index).log")
        }
        for process in [coordinator] + workers { await Binary.wait(process) }
        #expect(coordinator.terminationStatus == 0, "\((try? String(contentsOfFile: workspace.dir + "/run.log", encoding: .utf8)) ?? "")")
        #expect(workers.allSatisfy { $0.terminationStatus == 0 }, "\((try? String(contentsOfFile: workspace.dir + "/worker0.log", encoding: .utf8)) ?? "")")

        let state = try await server.psql(
            stateDatabase, "SELECT count(*) || ' ' || min(status) || ' ' || max(read) FROM backfill.runs") // one run, completed, 30,000 read
        #expect(state == "1 completed 30000")
        let joined = try await server.psql(stateDatabase, "SELECT count(*) FROM backfill.events WHERE kind = 'worker-joined'")
        #expect(joined == "2")
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
        #expect(try await server.psql(workspace.target, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes") == "6000,6000")
        let owners = try await server.psql(stateDatabase, "SELECT count(DISTINCT lease_owner) FROM backfill.chunks")
        #expect(Int(owners) ?? 0 >= 1)

        // The run is complete: a late worker has nothing to do and says so.
        let late = try await Binary.run(["worker", "--spec", "job.yaml", "--json"], in: workspace.dir)
        #expect(late.status == 0, "\(late.stderr)")
        #expect(late.stdout.contains("\"completed\""))
    }

    @Test("an idle worker gets half of another process's chunk: the holder splits it, and no row is read twice")
    func idleWorkerStealsHalfAChunk() async throws {
        // 10,000 rows plan as one chunk: without a split, the second process would have nothing to do.
        let (workspace, stateDatabase) = try await Self.sharedRun(rows: 10_000, rowsPerSecond: 1500)
        let server = workspace.server
        let coordinator = try Binary.launch(["run", "job.yaml", "--lease", "5s"], in: workspace.dir, log: "run.log")
        var holding = "0"
        while holding == "0" && coordinator.isRunning {
            holding = (try? await server.psql(stateDatabase, "SELECT count(*) FROM backfill.chunks WHERE status = 'running'")) ?? "0"
        }
        let worker = try Binary.launch(["worker", "--spec", "job.yaml", "--workers", "1", "--lease", "5s"], in: workspace.dir, log: "worker.log")
        for process in [coordinator, worker] { await Binary.wait(process) }
        #expect(coordinator.terminationStatus == 0 && worker.terminationStatus == 0)

        let splits = try await server.psql(stateDatabase, "SELECT count(*) FROM backfill.events WHERE kind = 'split'")
        #expect(Int(splits) ?? 0 >= 1, "the idle worker's request was never answered")
        // (Which process then claims the new chunk is a race: the holder may finish its half first.)
        let chunks = try await server.psql(stateDatabase, "SELECT count(*) || ' ' || min(status) FROM backfill.chunks")
        #expect(chunks.hasSuffix(" done") && !chunks.hasPrefix("1 "), "\(chunks)")
        // Each row was read once (the halves do not overlap) and each damaged row written once.
        #expect(try await server.psql(stateDatabase, "SELECT read || ' ' || chunks_total FROM backfill.runs") == "10000 \(chunks.split(separator: " ")[0])")
        #expect(try await server.psql(workspace.target, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes") == "2000,2000")
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
    }

    @Test("worker --serve: the dashboard, the API over the PostgreSQL state store and this worker's own metrics; SIGTERM stops server and worker gracefully")
    func workerServes() async throws {
        // 200 rows/s: the run cannot end (150 s) before the test stops the worker.
        let (workspace, stateDatabase) = try await Self.sharedRun(rows: 30_000, rowsPerSecond: 200)
        let (worker, base) = try await ServeTests.start(
            ["worker", "--spec", "job.yaml", "--serve", "--port", "0"], in: workspace.dir, token: nil, announcing: "dashboard: serving on ")
        defer { if worker.isRunning { worker.terminate() } }
        var read = 0
        while read < 1_000 && worker.isRunning {
            read = Int((try? await workspace.server.psql(stateDatabase, "SELECT coalesce(sum(read), 0) FROM backfill.chunks")) ?? "0") ?? 0
            try await Task.sleep(for: .milliseconds(50))
        }
        let (pageStatus, page) = try await ServeTests.request("GET", base + "/")
        #expect(pageStatus == 200 && String(decoding: page, as: UTF8.self).contains("<title>backfill</title>"))
        let (runsStatus, runs) = try await ServeTests.request("GET", base + "/api/runs")
        #expect(runsStatus == 200 && (ServeTests.json(runs) as? [[String: Any]])?.first?["status"] as? String == "running")
        let metrics = String(decoding: try await ServeTests.request("GET", base + "/metrics").1, as: UTF8.self)
        #expect(metrics.contains("backfill_batch_duration_seconds_count{") && metrics.contains("reason=\"rate_limit\""), "\(metrics.prefix(800))")
        kill(worker.processIdentifier, SIGTERM)
        await Binary.wait(worker)
        #expect(worker.terminationStatus == 4, "stopped before the end: exit 4")
        #expect(try await workspace.server.psql(stateDatabase, "SELECT count(*) FROM backfill.chunks WHERE status = 'running'") == "0")
    }

    @Test("SIGTERM stops a worker after its batch: its chunks go back at once (exit 4), and another worker finishes the run")
    func sigtermHandsChunksBack() async throws {
        let (workspace, stateDatabase) = try await Self.sharedRun(rows: 30_000, rowsPerSecond: 3000)
        let server = workspace.server
        // The target's writes wait for an advisory lock another session holds, so the worker holds
        // its chunks until the test has seen them and sent SIGTERM, however loaded the machine (a
        // loaded CI once polled through a whole run without seeing a chunk held).
        let holder = try await PostgresSession.holdingAdvisoryLock(server, database: workspace.target, key: 4243)
        try await server.psql(workspace.target, """
            CREATE FUNCTION held_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4243); RETURN NULL; END $$;
            CREATE TRIGGER held_write BEFORE INSERT OR UPDATE ON events FOR EACH STATEMENT EXECUTE FUNCTION held_write();
            """)
        // A long lease: a chunk not handed back would hold up the second worker for a minute.
        let first = try Binary.launch(["worker", "--spec", "job.yaml", "--lease", "60s"], in: workspace.dir, log: "first.log")
        var holding = "0"
        var lastError = ""
        while holding == "0" && first.isRunning {
            do {
                holding = try await server.psql(
                    stateDatabase, "SELECT count(*) FROM backfill.chunks WHERE status = 'running' AND lease_owner LIKE '%:\(first.processIdentifier)'")
            } catch {
                lastError = "\(error)"  // the state tables may not exist yet
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(holding != "0", "the worker was never seen holding a chunk; last error: \(lastError)")
        kill(first.processIdentifier, SIGTERM)
        // Its batch may finish now: it hands its chunks back after it.
        try holder.end()
        await Binary.wait(first)
        try await server.psql(workspace.target, "DROP TRIGGER held_write ON events")
        #expect(first.terminationStatus == 4, "\((try? String(contentsOfFile: workspace.dir + "/first.log", encoding: .utf8)) ?? "")")
        #expect(try await server.psql(stateDatabase, "SELECT count(*) FROM backfill.chunks WHERE status = 'running'") == "0")
        #expect(try await server.psql(stateDatabase, "SELECT status FROM backfill.runs") == "running")

        let second = try await Binary.run(["worker", "--spec", "job.yaml", "--lease", "60s", "--json"], in: workspace.dir)
        #expect(second.status == 0, "\(second.stderr)")
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
        #expect(try await server.psql(workspace.target, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes") == "6000,6000")
    }

    @Test("worker --run RUN --state DSN runs from the spec stored with the run")
    func workerFromTheStoredSpec() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 6_000)
        let server = workspace.server
        let stateDSN = server.dsn(try await server.createDatabase("state"))
        try workspace.writeSpec(extra: "state: \"\(stateDSN)\"")
        // Start the run and stop it at once: a --limit leaves it planned and resumable.
        let (first, _) = try await workspace.run(["--limit", "500"])
        #expect(first.status == 0, "\(first.stderr)")
        try FileManager.default.removeItem(atPath: workspace.dir + "/job.yaml")
        let worker = try await Binary.run(["worker", "--run", "1", "--state", stateDSN], in: workspace.dir)
        #expect(worker.status == 0, "\(worker.stderr)")
        #expect(worker.stdout.contains("joined run 1"))
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
    }

    @Test("a worker needs a PostgreSQL state store and a spec or a run; it refuses others with exit 2")
    func refusesWhatItCannotShare() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 100, countWrites: false)
        let sqlite = try await Binary.run(["worker", "--spec", "job.yaml"], in: workspace.dir)
        #expect(sqlite.status == 2)
        #expect(sqlite.stderr.contains("needs a PostgreSQL state store"))
        let nothing = try await Binary.run(["worker"], in: workspace.dir)
        #expect(nothing.status == 2)
        let badLease = try await Binary.run(["worker", "--spec", "job.yaml", "--lease", "soon"], in: workspace.dir)
        #expect(badLease.status == 2 && badLease.stderr.contains("--lease"))
    }
}

@Suite struct StoredSpecTests {
    @Test("the spec a run keeps has literal passwords replaced; ${VAR} references stay as written")
    func storedSpecHidesPasswords() {
        let text = """
            source: { postgres: "postgres://app:hunter2@db:5432/orders", table: orders }
            target: { postgres: "postgres://app:${TARGET_PASSWORD}@replica/orders?password=hunter3", table: orders }
            """
        let stored = SpecLoader.storable(text)
        #expect(!stored.contains("hunter2") && !stored.contains("hunter3"))
        #expect(stored.contains("postgres://app:***@db:5432/orders"))
        #expect(stored.contains("postgres://app:${TARGET_PASSWORD}@replica/orders?password=***"))
        let webhook = SpecLoader.storable(#"target: { webhook: "https://h.example/x", secret: "whsec_live_123", timeout: 5s }"# + "\n  secret: ${HOOK_SECRET}")
        #expect(!webhook.contains("whsec_live_123") && webhook.contains("secret: \"***\", timeout: 5s"), "\(webhook)")
        #expect(webhook.contains("secret: ${HOOK_SECRET}"))
    }
}
