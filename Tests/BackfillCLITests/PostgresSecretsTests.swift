import BackfillTesting
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Invariant 6: a secret never appears in logs, reports, the API or error messages. A run whose
/// source, target and state store DSNs all carry a password, logged at debug level as JSON, then
/// every command and endpoint that shows the run.
@Suite(.serialized, .timeLimit(.minutes(8)))
struct PostgresSecretsTests {
    static let password = "pw-Sup3r-s3cret-7781"

    @Test("invariant 6: the DSNs' password is in no log line, summary, status, report, API answer, metric or dashboard")
    func noSecretAnywhere() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 2_000, countWrites: false)
        let server = workspace.server
        let state = server.dsn(workspace.target, password: Self.password)
        let spec = """
            name: secrets
            source: { postgres: "\(server.dsn(workspace.source, password: Self.password))", table: events }
            target: { postgres: "\(server.dsn(workspace.target, password: Self.password))", table: events }
            state: "\(state)"
            key: [id]
            batch: { size: 500 }
            """
        try spec.write(toFile: workspace.dir + "/job.yaml", atomically: true, encoding: .utf8)
        var shown: [(String, String)] = []
        let run = try await Binary.run(["run", "job.yaml", "--json", "--log-format", "json", "--log-level", "debug"], in: workspace.dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("batch committed"), "debug lines were logged")
        shown += [("run stdout", run.stdout), ("run log", run.stderr)]
        for command in [["status", "1", "--state", state, "--json"], ["status", "--state", state], ["report", "1", "--state", state],
                        ["quarantine", "1", "--state", state], ["verify", "job.yaml", "--json"]] {
            let result = try await Binary.run(command, in: workspace.dir)
            shown += [(command.joined(separator: " "), result.stdout + result.stderr)]
        }
        let (serve, base) = try await ServeTests.start(
            ["serve", "--state", state, "--port", "0"], in: workspace.dir, token: nil, announcing: "serving on ")
        defer { serve.terminate() }
        for path in ["/", "/api/runs", "/api/runs/1", "/api/runs/1/report", "/api/runs/1/chunks", "/api/runs/1/quarantine", "/metrics", "/api/server"] {
            let (status, body) = try await ServeTests.request("GET", base + path)
            #expect(status == 200, "\(path)")
            shown.append(("GET \(path)", String(decoding: body, as: UTF8.self)))
        }
        for (what, text) in shown {
            #expect(!text.contains(Self.password), "the password appeared in \(what)")
            #expect(!text.isEmpty || what.hasPrefix("quarantine"), "\(what) showed nothing")
        }
    }
}
