import BackfillTesting
import Foundation
import Testing

/// Starting or taking over a run is one atomic step (invariant 10): of two `backfill run`s of one
/// job started together, one runs it and the other exits 2 naming the process that holds it.
///
/// A pause file holds the winner at its first batch, so the loser always meets a live run — the
/// test waits for the loser's exit, not for a time.
@Suite(.serialized, .timeLimit(.minutes(6)))
struct RunStartRaceTests {
    static let rows = 3_000

    static func workspace() throws -> String {
        let (dir, _) = try RunLifecycleTests.workspace(kind: .integer, rows: rows, extra: "limits: { pause-file: hold }")
        _ = FileManager.default.createFile(atPath: dir + "/hold", contents: nil)
        return dir
    }

    /// Launches `count` runs of the job at once; returns them with their log files.
    static func launchTogether(_ count: Int, in dir: String, round: Int) throws -> [(Process, String)] {
        try (0..<count).map { index in
            let log = "run-\(round)-\(index).log"
            return (try Binary.launch(["run", "job.yaml"], in: dir, log: log), log)
        }
    }

    /// Waits (on a Dispatch thread, as `Binary.wait` does) for the first of `processes` to exit and
    /// returns its index; the others keep running.
    static func firstToExit(_ processes: [Process], timeout: Double = 150) async -> Int {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let deadline = Date().addingTimeInterval(timeout)
                while Date() < deadline {
                    if let ended = processes.firstIndex(where: { !$0.isRunning }) {
                        processes[ended].waitUntilExit()
                        return continuation.resume(returning: ended)
                    }
                    Thread.sleep(forTimeInterval: 0.02)
                }
                continuation.resume(returning: 0)
            }
        }
    }

    static func log(_ dir: String, _ name: String) -> String {
        (try? String(contentsOfFile: dir + "/" + name, encoding: .utf8)) ?? ""
    }

    /// The loser's exit and message, then the winner finishes the job alone.
    static func expectOneWinner(_ launched: [(Process, String)], dir: String, loserSays phrase: String) async throws {
        let loser = await firstToExit(launched.map(\.0))
        let loserLog = log(dir, launched[loser].1)
        #expect(launched[loser].0.terminationStatus == 2, "loser exit \(launched[loser].0.terminationStatus):\n\(loserLog)")
        #expect(loserLog.contains(phrase), "\(loserLog)")
        try FileManager.default.removeItem(atPath: dir + "/hold")
        for (index, (process, name)) in launched.enumerated() where index != loser {
            await Binary.wait(process)
            #expect(process.terminationStatus == 0, "winner: \(log(dir, name))")
        }
    }

    @Test("two runs started together: one run is created, the other process exits 2 naming the holder", arguments: 0..<4)
    func startTogether(round: Int) async throws {
        let dir = try Self.workspace()
        let launched = try Self.launchTogether(2, in: dir, round: round)
        try await Self.expectOneWinner(launched, dir: dir, loserSays: "is being executed by process")
        #expect(try Fixtures.integer(path: dir + "/.backfill/state.db", "SELECT count(*) FROM runs") == 1)
        #expect(try Fixtures.integer(path: dir + "/.backfill/state.db", "SELECT read FROM runs") == Self.rows)
        #expect(try RunLifecycleTests.dump(dir, "target.db", .integer) == RunLifecycleTests.dump(dir, "source.db", .integer))
    }

    @Test("two processes resuming one killed run: one takes it over, the other exits 2")
    func resumeTogether() async throws {
        let dir = try Self.workspace()
        let first = try Binary.launch(["run", "job.yaml"], in: dir)
        let pid = first.processIdentifier
        // The run exists and waits at the pause file: kill it there.
        try await RunLifecycleTests.waitUntil(
            { ((try? Fixtures.integer(path: dir + "/.backfill/state.db", "SELECT count(*) FROM runs WHERE status = 'running'")) ?? 0) == 1 },
            then: { _ = kill(pid, SIGKILL) })
        await Binary.wait(first)
        let launched = try Self.launchTogether(2, in: dir, round: 9)
        try await Self.expectOneWinner(launched, dir: dir, loserSays: "process")
        #expect(try Fixtures.integer(path: dir + "/.backfill/state.db", "SELECT count(*) FROM runs") == 1)
        #expect(try Fixtures.integer(path: dir + "/.backfill/state.db", "SELECT read FROM runs") == Self.rows)
    }

    @Test(
        "with a PostgreSQL state store: two runs started together create one run; the other exits 2 naming the holder",
        .enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"))
    func startTogetherWithPostgresState() async throws {
        let server = try #require(PostgresFixture.server)
        let database = try await server.createDatabase("race_state")
        let (dir, _) = try RunLifecycleTests.workspace(
            kind: .integer, rows: Self.rows, extra: "limits: { pause-file: hold }\nstate: \"\(server.dsn(database))\"")
        _ = FileManager.default.createFile(atPath: dir + "/hold", contents: nil)
        let launched = try Self.launchTogether(2, in: dir, round: 20)
        try await Self.expectOneWinner(launched, dir: dir, loserSays: "is being executed by process")
        #expect(try await server.psql(database, "SELECT count(*) || ',' || max(read) FROM backfill.runs") == "1,\(Self.rows)")
    }
}

