import BackfillTesting
import Foundation
import Testing

/// The real binary on real SQLite files: crash and resume, pause/resume/cancel, dry run, limit.
@Suite(.timeLimit(.minutes(6)))
struct RunLifecycleTests {
    /// A folder with a source, a damaged target (with a write counter) and a spec.
    static func workspace(kind: KeyKind, rows: Int, extra: String = "") throws -> (dir: String, damaged: Int) {
        let dir = try Fixtures.temporaryDirectory("cli-\(kind)")
        try Fixtures.makeSource(path: dir + "/source.db", kind: kind, rows: rows)
        let damaged = try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try Fixtures.installWriteCounter(path: dir + "/target.db")
        try Fixtures.spec(kind: kind, extra: extra).write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        return (dir, damaged)
    }

    /// An empty target whose trigger refuses every fifth row (by amount), with a 5% error limit;
    /// 30,000 rows make three chunks, so several workers are in flight when the guard trips.
    static func outageWorkspace(kind: KeyKind) throws -> String {
        let (dir, _) = try workspace(kind: kind, rows: 30_000, extra: "limits: { max-error-rate: 0.05 }")
        try Fixtures.execute(path: dir + "/target.db", """
            DELETE FROM items;
            CREATE TRIGGER outage BEFORE INSERT ON items WHEN NEW.amount % 5 = 0 BEGIN SELECT RAISE(ABORT, 'target rejects'); END;
            """)
        return dir
    }

    static func rowsRead(_ dir: String) -> Int {
        (try? Fixtures.integer(path: dir + "/.backfill/state.db", "SELECT coalesce(max(read), 0) FROM runs")) ?? 0
    }

    /// Polls `condition` on a thread of its own and runs `action` there the moment it holds, so
    /// that other tests blocking Swift concurrency's few threads (or Dispatch's, whose queue
    /// notices child processes exit) cannot delay it past that moment.
    static func waitUntil<T: Sendable>(
        _ condition: @escaping @Sendable () -> Bool, timeout seconds: Double = 120, then action: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await PostgresFixture.offPool {
            let deadline = Date().addingTimeInterval(seconds)
            while !condition() {
                guard Date() < deadline else { throw CancellationError() }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return try action()
        }
    }

    /// Sends SIGKILL to `process` once the state file `state` records `rows` rows read (by run `run`
    /// only, when given), and waits for the process to end.
    static func killNine(_ process: Process, state: String, onceRead rows: Int, run: Int? = nil) async throws {
        let read = "SELECT coalesce(sum(read), 0) FROM chunks" + (run.map { " WHERE run_id = \($0)" } ?? "")
        // A process that exits first (a bad spec, a refused input) ends the wait: the caller's checks
        // of how it ended then fail at once instead of after the timeout.
        _ = try await waitUntil(
            { !process.isRunning || ((try? Fixtures.integer(path: state, read)) ?? 0) >= rows }, then: { kill(process.processIdentifier, SIGKILL) })
        await Binary.wait(process)
    }

    static func dump(_ dir: String, _ file: String, _ kind: KeyKind) throws -> [String] {
        try Fixtures.dump(path: dir + "/" + file, orderBy: kind.keyColumns.joined(separator: ", "))
    }

    @Test("kill -9 mid-run, rerun: target equals source and no row is written twice", arguments: KeyKind.allCases)
    func killAndResume(kind: KeyKind) async throws {
        let (dir, damaged) = try Self.workspace(kind: kind, rows: 30_000, extra: "limits: { rows-per-second: 15000 }")
        let process = try Binary.launch(["run", "job.yaml"], in: dir)
        let pid = process.processIdentifier
        try await Self.waitUntil({ Self.rowsRead(dir) >= 6000 }, then: { _ = kill(pid, SIGKILL) })
        await Binary.wait(process)
        #expect(process.terminationReason == .uncaughtSignal)
        let readBeforeCrash = Self.rowsRead(dir)
        #expect(readBeforeCrash < 30_000)

        let rerun = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("\"status\" : \"completed\""))
        #expect(rerun.stdout.contains("\"balanced\" : true"))
        #expect(try Self.dump(dir, "target.db", kind) == Self.dump(dir, "source.db", kind))
        // Rows of the batch in flight at the crash were committed but not checkpointed; the rerun
        // finds them equal and does not write them again, so every damaged row is written exactly once.
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT n FROM write_count") == damaged)
    }

    @Test("pause stops progress before the next batch, resume continues, the run completes")
    func pauseAndResume() async throws {
        let (dir, _) = try Self.workspace(kind: .integer, rows: 20_000, extra: "limits: { rows-per-second: 4000 }")
        let process = try Binary.launch(["run", "job.yaml"], in: dir, log: "run.log")
        let pause = try await Self.waitUntil({ Self.rowsRead(dir) > 0 }, then: { try Binary.runBlocking(["pause", "1"], in: dir, environment: [:]) })
        #expect(pause.status == 0, "\(pause.stderr)")
        // The event: both workers saw the pause before their next batch (they say so once each).
        let acknowledged = { @Sendable in
            ((try? String(contentsOfFile: dir + "/run.log", encoding: .utf8)) ?? "").components(separatedBy: "run paused; waiting for resume").count - 1
        }
        _ = try await Self.waitUntil({ acknowledged() >= 2 || !process.isRunning }, then: { () })
        #expect(process.isRunning)
        let first = Self.rowsRead(dir)
        let status = try await Binary.run(["status", "1", "--json"], in: dir)
        #expect(status.stdout.contains("\"status\" : \"paused\""))
        #expect(Self.rowsRead(dir) == first, "rows were read while paused")
        #expect(try await Binary.run(["resume", "1"], in: dir).status == 0)
        await Binary.wait(process)
        #expect(process.terminationStatus == 0)
        #expect(try Self.dump(dir, "target.db", .integer) == Self.dump(dir, "source.db", .integer))
        let report = try await Binary.run(["report", "1"], in: dir)
        #expect(report.stdout.contains("paused"))
        #expect(report.stdout.contains("resumed"))
    }

    @Test("limits.bytes-per-second holds the run to its budget: the bytes it shipped took at least as long as the budget allows")
    func byteBudget() async throws {
        let (dir, _) = try Self.workspace(kind: .integer, rows: 20_000, extra: "limits: { bytes-per-second: 300KB }")
        // Batches of at most 1,000 rows: the last batch of each worker is not waited for.
        try String(contentsOfFile: dir + "/job.yaml", encoding: .utf8).replacingOccurrences(of: "batch: { size: 500 }", with: "batch: { size: 500, max: 1000 }")
            .write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let started = ContinuousClock.now
        let result = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        let elapsed = started.duration(to: .now).inSeconds
        #expect(result.status == 0, "\(result.stderr.suffix(1000))")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let shipped = try #require((report["counters"] as? [String: Any])?["shippedBytes"] as? Int)
        let budget = 300.0 * 1024
        #expect(Double(shipped) > 2 * budget, "enough bytes to be held back: \(shipped)")
        // The bucket's first second is free, and each of the 2 workers' last batch (≤ 1,000 rows) is not paid for.
        let unpaid = budget + 2 * 1000 * Double(shipped) / 20_000
        #expect(elapsed >= (Double(shipped) - unpaid) / budget * 0.95, "\(shipped) bytes in \(elapsed) s against \(Int(budget)) bytes/s")
        #expect(try Self.dump(dir, "target.db", .integer) == Self.dump(dir, "source.db", .integer))
    }

    @Test("cancel stops the run before its next batch with exit 4")
    func cancel() async throws {
        let (dir, _) = try Self.workspace(kind: .integer, rows: 20_000, extra: "limits: { rows-per-second: 4000 }")
        let process = try Binary.launch(["run", "job.yaml"], in: dir)
        let cancel = try await Self.waitUntil({ Self.rowsRead(dir) > 0 }, then: { try Binary.runBlocking(["cancel", "1"], in: dir, environment: [:]) })
        #expect(cancel.status == 0, "\(cancel.stderr)")
        await Binary.wait(process)
        #expect(process.terminationStatus == 4)
        #expect(Self.rowsRead(dir) < 20_000)
        let status = try await Binary.run(["status", "1", "--json"], in: dir)
        #expect(status.stdout.contains("\"status\" : \"cancelled\""))
        #expect(try await Binary.run(["resume", "1"], in: dir).status == 2)
    }

    @Test("dry run reports per chunk what would change and writes nothing, not even state")
    func dryRunWritesNothing() async throws {
        let (dir, damaged) = try Self.workspace(kind: .composite, rows: 5000)
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/target.db"))
        let result = try await Binary.run(["run", "job.yaml", "--dry-run", "--json"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/target.db")) == before)
        #expect(!FileManager.default.fileExists(atPath: dir + "/.backfill/state.db"))
        #expect(result.stdout.contains("\"dryRun\" : true"))
        let text = try await Binary.run(["run", "job.yaml", "--dry-run"], in: dir)
        #expect(text.stdout.contains("per chunk, what a run would do"))
        let real = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(real.status == 0)
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT n FROM write_count") == damaged)
    }

    @Test("--limit N processes the first N rows; the next run continues the same run")
    func limitThenContinue() async throws {
        let (dir, _) = try Self.workspace(kind: .text, rows: 5000)
        let trial = try await Binary.run(["run", "job.yaml", "--limit", "700", "--json"], in: dir)
        #expect(trial.status == 0, "\(trial.stderr)")
        #expect(trial.stdout.contains("\"read\" : 700"))
        let rest = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(rest.status == 0)
        #expect(rest.stdout.contains("\"runID\" : 1"))
        #expect(rest.stdout.contains("\"read\" : 5000"))
        #expect(try Self.dump(dir, "target.db", .text) == Self.dump(dir, "source.db", .text))
    }

    @Test("set changes a running run's rate before its next batch and records it; bad knobs exit 2")
    func setKnobs() async throws {
        let (dir, _) = try Self.workspace(kind: .integer, rows: 40_000, extra: "limits: { rows-per-second: 2000 }")
        let process = try Binary.launch(["run", "job.yaml"], in: dir)
        let (status, set) = try await Self.waitUntil({ Self.rowsRead(dir) > 0 }, then: { () throws -> (Binary.Result, Binary.Result) in
            (
                try Binary.runBlocking(["status", "1"], in: dir, environment: [:]),
                try Binary.runBlocking(["set", "1", "rows-per-second=0", "batch-size=5000"], in: dir, environment: [:])
            )
        })
        #expect(status.stdout.contains("binding     rows-per-second since"), "the rate binds the run: \(status.stdout)")
        #expect(set.status == 0, "\(set.stderr)")
        // At 2,000 rows/s the 40,000 rows would take 20 s; with the limit lifted the run ends long before.
        let finished = try await Self.waitUntil({ !process.isRunning }, timeout: 15, then: { true })
        #expect(finished)
        await Binary.wait(process)
        #expect(process.terminationStatus == 0)
        let report = try await Binary.run(["report", "1"], in: dir)
        #expect(report.stdout.contains("set rows-per-second=0 batch-size=5000"))
        let bad = ["workers=99": "workers must be", "speed=1": "unknown knob 'speed'", "batch-size=0": "batch-size must be",
                   "rows-per-second=fast": "rows-per-second must be"]
        for (assignment, message) in bad {
            let result = try await Binary.run(["set", "1", assignment], in: dir)
            #expect(result.status == 2, "\(assignment): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(assignment): \(result.stderr)")
        }
        let late = try await Binary.run(["set", "1", "batch-size=10"], in: dir)
        #expect(late.status == 2)
        #expect(late.stderr.contains("run 1 is completed"))
    }

    @Test("the error guard pauses a run whose target refuses too many rows (exit 4); resume and rerun finish it")
    func errorGuardPausesAndResumes() async throws {
        let dir = try Self.outageWorkspace(kind: .integer)
        let first = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(first.status == 4, "\(first.stderr)")
        #expect(first.stdout.contains("limits.max-error-rate"))
        let status = try await Binary.run(["status", "1", "--json"], in: dir)
        #expect(status.stdout.contains("\"status\" : \"paused\""))
        #expect(Self.rowsRead(dir) < 30_000)
        // The cause is fixed; the operator resumes and runs again.
        try Fixtures.execute(path: dir + "/target.db", "DROP TRIGGER outage")
        #expect(try await Binary.run(["resume", "1"], in: dir).status == 0)
        let second = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(second.status == 5, "completed, the refused rows still in quarantine: exit 5\n\(second.stderr)")
        #expect(second.stdout.contains("\"status\" : \"completed\""))
        #expect(second.stdout.contains("\"read\" : 30000"))
        #expect(second.stdout.contains("\"balanced\" : true"))
        let quarantined = try Fixtures.integer(path: dir + "/.backfill/state.db", "SELECT count(*) FROM quarantine")
        #expect(quarantined > 0)
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM items") == 30_000 - quarantined)
        // The rows the outage refused are retried from the source of truth.
        let retry = try await Binary.run(["run", "job.yaml", "--retry-quarantined", "--json"], in: dir)
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(retry.stdout.contains("\"retried\" : \(quarantined)"))
        #expect(retry.stdout.contains("\"inserted\" : \(quarantined)"))
        #expect(try Self.dump(dir, "target.db", .integer) == Self.dump(dir, "source.db", .integer))
        let again = try await Binary.run(["run", "job.yaml", "--retry-quarantined", "--json"], in: dir)
        #expect(again.stdout.contains("\"retried\" : 0"))
    }

    @Test("run --wait: paused by the error guard, the process waits and finishes after resume")
    func errorGuardWaits() async throws {
        let dir = try Self.outageWorkspace(kind: .text)
        let process = try Binary.launch(["run", "job.yaml", "--wait"], in: dir)
        let paused = { @Sendable in
            (try? Fixtures.integer(path: dir + "/.backfill/state.db", "SELECT count(*) FROM runs WHERE status = 'paused'")) == 1
        }
        let resume = try await Self.waitUntil(paused, then: { () throws -> Binary.Result in
            try Fixtures.execute(path: dir + "/target.db", "DROP TRIGGER outage")
            return try Binary.runBlocking(["resume", "1"], in: dir, environment: [:])
        })
        #expect(resume.status == 0, "\(resume.stderr)")
        await Binary.wait(process)
        #expect(process.terminationStatus == 5, "completed, the rows refused before the pause still in quarantine")
        #expect(Self.rowsRead(dir) == 30_000)
        let status = try await Binary.run(["status", "1"], in: dir)
        #expect(status.stdout.contains("completed"))
        #expect(status.stdout.contains("chunks 3/3"), "\(status.stdout)")
    }

    @Test("set workers=N grows and shrinks the workers of a running run; every row still arrives once")
    func setWorkers() async throws {
        let (dir, damaged) = try Self.workspace(kind: .composite, rows: 40_000, extra: "limits: { rows-per-second: 2000 }")
        let process = try Binary.launch(["run", "job.yaml"], in: dir)
        // Both changes from one Dispatch thread: a test task waiting for Swift concurrency's few
        // threads between them could find the run finished (20 s) before it shrinks it.
        let (grow, shrink) = try await Self.waitUntil({ Self.rowsRead(dir) > 0 }, then: { () throws -> (Binary.Result, Binary.Result) in
            let grow = try Binary.runBlocking(["set", "1", "workers=4"], in: dir, environment: [:])
            let deadline = Date().addingTimeInterval(60)
            while Self.rowsRead(dir) <= 8_000 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            return (grow, try Binary.runBlocking(["set", "1", "workers=1", "rows-per-second=0"], in: dir, environment: [:]))
        })
        #expect(grow.status == 0, "\(grow.stderr)")
        #expect(shrink.status == 0, "\(shrink.stderr)")
        await Binary.wait(process)
        #expect(process.terminationStatus == 0)
        #expect(try Self.dump(dir, "target.db", .composite) == Self.dump(dir, "source.db", .composite))
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT n FROM write_count") == damaged)
        let report = try await Binary.run(["report", "1"], in: dir)
        #expect(report.stdout.contains("set workers=4"))
        #expect(report.stdout.contains("set workers=1"))
    }
}
