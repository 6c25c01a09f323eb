import BackfillTesting
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `backfill serve`: the real server on a free port of 127.0.0.1, over a real state store.
@Suite(.timeLimit(.minutes(6)))
struct ServeTests {
    /// Starts `backfill serve` in `dir` and returns it with its base URL.
    static func serve(in dir: String, token: String?) async throws -> (Process, String) {
        try await start(["serve", "--state", ".backfill/state.db", "--port", "0"], in: dir, token: token, announcing: "serving on ")
    }

    /// Starts `backfill ARGS` in `dir` and returns it with the URL it prints after `prefix`.
    static func start(_ arguments: [String], in dir: String, token: String?, announcing prefix: String) async throws -> (Process, String) {
        let log = "server-\(UUID().uuidString).log"
        let process = try Binary.launch(arguments, in: dir, log: log, environment: ["BACKFILL_API_TOKEN": token ?? ""])
        for _ in 0..<1_000 {
            let text = (try? String(contentsOfFile: dir + "/" + log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return (process, String(line.dropFirst(prefix.count).split(separator: " ")[0]))
            }
            if !process.isRunning { throw FixtureError("backfill \(arguments.joined(separator: " ")) exited: \(text)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw FixtureError("backfill \(arguments.joined(separator: " ")) did not start serving")
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

        // The run's report: the same document as `backfill report 1 --json`, with its time series.
        let (reportStatus, reportBody) = try await Self.request("GET", base + "/api/runs/1/report")
        let report = try #require(Self.json(reportBody) as? [String: Any])
        #expect(reportStatus == 200 && report["checkpoints"] as? Int == (run["counters"] as? [String: Any])?["batches"] as? Int)
        #expect((report["batchSizes"] as? [String: Any])?["latest"] as? Int == 500, "\(report["batchSizes"] ?? "none")")
        let series = try #require(report["series"] as? [[String: Any]])
        #expect(series.last?["read"] as? Int == 500, "a sample at the end of the run: \(series)")
        #expect(series.allSatisfy { $0["rowsPerSecond"] is Double && $0["failureRate"] is Double })
        let cli = try await Binary.run(["report", "1", "--json"], in: dir)
        let cliReport = try #require(Self.json(Data(cli.stdout.utf8)) as? [String: Any], "\(cli.stderr)")
        #expect(Set(cliReport.keys) == Set(report.keys) && cliReport.keys.contains("startedAt") && cliReport.keys.contains("series"))
        #expect((cliReport["series"] as? [Any])?.count == series.count)

        // The dashboard page, and whether it may offer the buttons.
        let (pageStatus, pageBody) = try await Self.request("GET", base + "/")
        #expect(pageStatus == 200 && String(decoding: pageBody, as: UTF8.self).contains("<title>backfill</title>"))
        let (serverStatus, serverBody) = try await Self.request("GET", base + "/api/server")
        #expect(serverStatus == 200 && (Self.json(serverBody) as? [String: Any])?["mutations"] as? Bool == true)

        // Every JSON answer conforms to the schema docs/openapi.yaml gives it.
        let document = try OpenAPIDocument.load()
        for (path, url) in [
            ("/healthz", "/healthz"), ("/api/server", "/api/server"), ("/api/runs", "/api/runs"), ("/api/runs/{id}", "/api/runs/1"),
            ("/api/runs/{id}/report", "/api/runs/1/report"), ("/api/runs/{id}/chunks", "/api/runs/1/chunks"),
            ("/api/runs/{id}/quarantine", "/api/runs/1/quarantine"),
        ] {
            let (status, body) = try await Self.request("GET", base + url)
            #expect(status == 200 && document.problems("get", path, body: body) == [], "\(url): \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
        #expect(document.problems("get", "/api/runs/{id}", status: "404", body: try await Self.request("GET", base + "/api/runs/99").1) == [])

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
        #expect(document.problems("post", "/api/runs/{id}/pause", body: pausedBody) == [])
        #expect(try Fixtures.text(path: dir + "/.backfill/state.db", "SELECT status FROM runs WHERE id = 1") == "paused")
        #expect(try await Self.request("POST", base + "/api/runs/1/resume", token: "s3cret-token").0 == 200)
        #expect(try await Self.request("POST", base + "/api/runs/1/cancel", token: "s3cret-token").0 == 200)
        let (again, againBody) = try await Self.request("POST", base + "/api/runs/1/pause", token: "s3cret-token")
        #expect(again == 409, "a cancelled run cannot be paused")
        let error = (Self.json(againBody) as? [String: Any])?["error"] as? [String: Any]
        #expect((error?["message"] as? String)?.contains("cancelled") == true, "\(String(decoding: againBody, as: UTF8.self))")
    }

    @Test("`run --serve` serves the running process's own metrics (batch durations, rate-limit waits, batch size) and a cancel through the API stops the run")
    func runServe() async throws {
        // 200 rows/s: the run cannot end (100 s, near the suite's time limit) before the test cancels
        // it, however long a loaded machine keeps the test waiting.
        let (dir, _) = try RunLifecycleTests.workspace(kind: .integer, rows: 20_000, extra: "limits: { rows-per-second: 200 }")
        let (run, base) = try await Self.start(
            ["run", "job.yaml", "--serve", "--port", "0"], in: dir, token: "t0ken", announcing: "dashboard: serving on ")
        defer { if run.isRunning { run.terminate() } }
        // Two batches of 500: the second waited for the rate limit.
        try await RunLifecycleTests.waitUntil({ RunLifecycleTests.rowsRead(dir) >= 1_000 }) {}
        let metrics = String(decoding: try await Self.request("GET", base + "/metrics").1, as: UTF8.self)
        let lines = metrics.split(separator: "\n").filter { !$0.hasPrefix("#") }
        func value(_ prefix: String, _ label: String = "") -> Double? {
            lines.first { $0.hasPrefix(prefix) && $0.contains(label) }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect((value("backfill_batch_duration_seconds_count{", "run=\"1\"") ?? 0) >= 2, "\(metrics)")
        #expect((value("backfill_wait_seconds_total{", "reason=\"rate_limit\"") ?? 0) > 0, "\(metrics)")
        #expect(value("backfill_current_batch_size{", "job=\"items\"") == 500)
        #expect((value("backfill_process_rows_total{", "outcome=\"unchanged\"") ?? 0) > 0)
        #expect((value("backfill_chunks_total{", "run=\"1\"") ?? 0) >= 1, "the state store's gauges are served beside them")

        #expect(try await Self.request("POST", base + "/api/runs/1/cancel", token: "t0ken").0 == 200)
        await Binary.wait(run)
        #expect(run.terminationStatus == 4, "a cancelled run exits 4")
        #expect(try Fixtures.text(path: dir + "/.backfill/state.db", "SELECT status FROM runs WHERE id = 1") == "cancelled")
    }

    @Test("with no token configured, mutations are disabled (403)")
    func noToken() async throws {
        let (dir, _) = try RunLifecycleTests.workspace(kind: .integer, rows: 200)
        _ = try await Binary.run(["run", "job.yaml", "--limit", "50"], in: dir)
        let (server, base) = try await Self.serve(in: dir, token: nil)
        defer { server.terminate() }
        #expect(try await Self.request("POST", base + "/api/runs/1/pause", token: "anything").0 == 403)
        let (_, serverBody) = try await Self.request("GET", base + "/api/server")
        #expect((Self.json(serverBody) as? [String: Any])?["mutations"] as? Bool == false)
        #expect(try Fixtures.text(path: dir + "/.backfill/state.db", "SELECT status FROM runs WHERE id = 1") == "planned")
    }

    @Test("docs/openapi.yaml documents exactly the routes the server has")
    func openAPIMatchesRoutes() throws {
        let served: Set<String> = [
            "/", "/healthz", "/metrics", "/api/server", "/api/runs", "/api/runs/{id}", "/api/runs/{id}/report",
            "/api/runs/{id}/chunks", "/api/runs/{id}/quarantine", "/api/runs/{id}/pause", "/api/runs/{id}/resume",
            "/api/runs/{id}/cancel",
        ]
        let document = try OpenAPIDocument.load()
        #expect(document.paths == served)
        // The validator the API test relies on does reject what does not conform.
        let wrong = document.problems("get", "/api/runs/{id}", body: Data(#"{"id": "7", "status": "sleeping", "createdAt": "yesterday"}"#.utf8))
        #expect(wrong.contains { $0.contains("$.id: string, expected integer") } && wrong.contains { $0.contains("sleeping") })
        #expect(wrong.contains { $0.contains("$.job is required") } && wrong.contains { $0.contains("not a date-time") }, "\(wrong)")
    }
}
