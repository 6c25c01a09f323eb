import BackfillTesting
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `backfill serve`: the real server on a free port of 127.0.0.1, over a real state store.
@Suite(.timeLimit(.minutes(2)))
struct ServeTests {
    /// Starts `backfill serve` in `dir` and returns it with its base URL.
    static func serve(in dir: String, token: String?) async throws -> (Process, String) {
        let log = "serve-\(UUID().uuidString).log"
        let process = try Binary.launch(
            ["serve", "--state", ".backfill/state.db", "--port", "0"], in: dir, log: log, environment: ["BACKFILL_API_TOKEN": token ?? ""])
        for _ in 0..<500 {
            let text = (try? String(contentsOfFile: dir + "/" + log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("serving on ") }) {
                return (process, String(line.dropFirst("serving on ".count).split(separator: " ")[0]))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw FixtureError("backfill serve did not start")
    }

    static func request(_ method: String, _ url: String, token: String? = nil) async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    static func json(_ data: Data) -> Any? { try? JSONSerialization.jsonObject(with: data) }

    @Test("the JSON API, /metrics and /healthz answer from the state store; mutations need the bearer token and change nothing without it")
    func api() async throws {
        let (dir, _) = try RunLifecycleTests.workspace(kind: .integer, rows: 3_000)
        // Run 1 stops after 500 rows (resumable, planned): something to pause.
        let first = try await Binary.run(["run", "job.yaml", "--limit", "500"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let (server, base) = try await Self.serve(in: dir, token: "s3cret-token")
        defer { server.terminate() }

        let (health, healthBody) = try await Self.request("GET", base + "/healthz")
        #expect(health == 200 && (Self.json(healthBody) as? [String: Any])?["status"] as? String == "ok")
        let (runsStatus, runsBody) = try await Self.request("GET", base + "/api/runs")
        let runs = try #require(Self.json(runsBody) as? [[String: Any]])
        #expect(runsStatus == 200 && runs.first?["id"] as? Int == 1 && runs.first?["job"] as? String == "items")
        let (runStatus, runBody) = try await Self.request("GET", base + "/api/runs/1")
        let run = try #require(Self.json(runBody) as? [String: Any])
        #expect(runStatus == 200 && run["status"] as? String == "planned")
        #expect((run["counters"] as? [String: Any])?["read"] as? Int == 500)
        #expect(try await Self.request("GET", base + "/api/runs/99").0 == 404)
        let (chunksStatus, chunksBody) = try await Self.request("GET", base + "/api/runs/1/chunks")
        #expect(chunksStatus == 200 && !((Self.json(chunksBody) as? [Any]) ?? []).isEmpty)
        let (quarantineStatus, quarantineBody) = try await Self.request("GET", base + "/api/runs/1/quarantine?limit=5")
        #expect(quarantineStatus == 200 && Self.json(quarantineBody) is [Any])

        let (metricsStatus, metricsBody) = try await Self.request("GET", base + "/metrics")
        let metrics = String(decoding: metricsBody, as: UTF8.self)
        #expect(metricsStatus == 200)
        #expect(metrics.contains("backfill_rows{") && metrics.contains("outcome=\"read\"") && metrics.contains("job=\"items\""), "\(metrics.prefix(600))")
        #expect(metrics.split(separator: "\n").contains { $0.hasPrefix("backfill_rows{") && $0.contains("outcome=\"read\"") && $0.hasSuffix(" 500.0") }, "\(metrics.prefix(600))")
        #expect(metrics.contains("backfill_status{") && metrics.contains("backfill_chunks_total{"))

        // Without the token, or with a wrong one: 401, and the run is as it was.
        #expect(try await Self.request("POST", base + "/api/runs/1/pause").0 == 401)
        #expect(try await Self.request("POST", base + "/api/runs/1/pause", token: "wrong").0 == 401)
        #expect(try Fixtures.text(path: dir + "/.backfill/state.db", "SELECT status FROM runs WHERE id = 1") == "planned")
        let (paused, pausedBody) = try await Self.request("POST", base + "/api/runs/1/pause", token: "s3cret-token")
        #expect(paused == 200 && (Self.json(pausedBody) as? [String: Any])?["status"] as? String == "paused")
        #expect(try Fixtures.text(path: dir + "/.backfill/state.db", "SELECT status FROM runs WHERE id = 1") == "paused")
        #expect(try await Self.request("POST", base + "/api/runs/1/resume", token: "s3cret-token").0 == 200)
        #expect(try await Self.request("POST", base + "/api/runs/1/cancel", token: "s3cret-token").0 == 200)
        let (again, againBody) = try await Self.request("POST", base + "/api/runs/1/pause", token: "s3cret-token")
        #expect(again == 409, "a cancelled run cannot be paused")
        let error = (Self.json(againBody) as? [String: Any])?["error"] as? [String: Any]
        #expect((error?["message"] as? String)?.contains("cancelled") == true, "\(String(decoding: againBody, as: UTF8.self))")
    }

    @Test("with no token configured, mutations are disabled (403)")
    func noToken() async throws {
        let (dir, _) = try RunLifecycleTests.workspace(kind: .integer, rows: 200)
        _ = try await Binary.run(["run", "job.yaml", "--limit", "50"], in: dir)
        let (server, base) = try await Self.serve(in: dir, token: nil)
        defer { server.terminate() }
        #expect(try await Self.request("POST", base + "/api/runs/1/pause", token: "anything").0 == 403)
        #expect(try Fixtures.text(path: dir + "/.backfill/state.db", "SELECT status FROM runs WHERE id = 1") == "planned")
    }

    @Test("docs/openapi.yaml documents exactly the routes the server has")
    func openAPIMatchesRoutes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let documented = Set(text.split(separator: "\n").filter { $0.hasPrefix("  /") }.map { $0.trimmingCharacters(in: .whitespaces).dropLast() }.map(String.init))
        let served: Set<String> = [
            "/healthz", "/metrics", "/api/runs", "/api/runs/{id}", "/api/runs/{id}/chunks", "/api/runs/{id}/quarantine",
            "/api/runs/{id}/pause", "/api/runs/{id}/resume", "/api/runs/{id}/cancel",
        ]
        #expect(documented == served)
    }
}
