import BackfillTesting
import Foundation
import Testing

/// `state: postgres://…`: the runs, chunks and counters live in PostgreSQL.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(3)))
struct PostgresStateStoreTests {
    @Test("kill -9 mid-run with the state in PostgreSQL: the rerun resumes the same run and the target equals the source")
    func resumesFromAPostgresStateStore() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 30_000, extra: "limits: { rows-per-second: 8000 }")
        let server = workspace.server
        let stateDatabase = try await server.createDatabase("state")
        let stateDSN = server.dsn(stateDatabase)
        try workspace.writeSpec(extra: "limits: { rows-per-second: 8000 }\nstate: \"\(stateDSN)\"")
        let process = try Binary.launch(["run", "job.yaml"], in: workspace.dir)
        for _ in 0..<600 {
            let read = try? await server.psql(stateDatabase, "SELECT coalesce(sum(read), 0) FROM backfill.chunks")
            if let read, let rows = Int(read), rows >= 6_000 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(process.processIdentifier, SIGKILL)
        await Binary.wait(process)
        #expect(try await server.psql(stateDatabase, "SELECT status FROM backfill.runs") == "running")

        try workspace.writeSpec(extra: "state: \"\(stateDSN)\"")
        let (result, report) = try await workspace.run()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report?["read"] == 30_000, "the same run goes on: \(report?.counters ?? [:])")
        #expect(try await server.psql(stateDatabase, "SELECT count(*) || ' ' || max(status) FROM backfill.runs") == "1 completed")
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
        let writes = try await server.psql(workspace.target, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes")
        #expect(writes == "6000,6000")

        let status = try await Binary.run(["status", "--state", stateDSN], in: workspace.dir)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("completed"))
        let missing = try await Binary.run(["status", "--state", server.dsn("postgres")], in: workspace.dir)
        #expect(missing.status == 2 && missing.stderr.contains("no backfill state store"))
    }
}
