import BackfillCore
import Foundation
import Hummingbird
import Prometheus

/// The routes of DESIGN's HTTP contract over a state store: the dashboard (`/`), the JSON API,
/// `/metrics` and `/healthz`.
///
/// Reads are open to whoever reaches the address (127.0.0.1 by default). Pause, resume and cancel
/// need `Authorization: Bearer <token>`: with no token configured they are disabled (403); a
/// missing or wrong token is refused (401) and changes nothing.
public struct BackfillAPI: Sendable {
    let state: any StateStore
    let token: String?
    let metrics: StateMetrics
    /// Adds to a run's report what the state store does not hold (its journal, read from its target).
    let completeReport: @Sendable (RunReport) async -> RunReport

    /// - Parameters:
    ///   - token: `BACKFILL_API_TOKEN`; `nil` or empty disables mutations.
    ///   - registry: where `/metrics` comes from: the state store's totals are recorded into it at
    ///     every scrape, beside whatever else the process records there (a running backfill's
    ///     batch durations and waits, when `MetricsSystem` was bootstrapped with it).
    ///   - completeReport: adds to a run's report what only its target knows (`RunReport.journal`).
    public init(
        state: any StateStore, token: String?, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        completeReport: @escaping @Sendable (RunReport) async -> RunReport = { $0 }
    ) {
        self.state = state
        self.completeReport = completeReport
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.metrics = StateMetrics(state: state, registry: registry)
    }

    /// Whether pause, resume and cancel are enabled (a token is configured).
    public var mutationsEnabled: Bool { token != nil }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let (state, metrics, completeReport) = (self.state, self.metrics, self.completeReport)
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
        router.get("healthz") { _, _ in try JSONResponse.ok(["status": "ok"]) }
        let mutations = mutationsEnabled
        router.get("api/server") { _, _ in try JSONResponse.ok(["mutations": mutations]) }
        router.get("metrics") { _, _ in
            let text = try await metrics.render()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.get("api/runs") { _, _ in try JSONResponse.ok(try await state.runs(limit: 200)) }
        router.get("api/runs/:id") { _, context in try JSONResponse.ok(try await Self.run(context, state)) }
        router.get("api/runs/:id/report") { _, context in
            let run = try await Self.run(context, state)
            guard let report = try await RunReport.load(runID: run.id, from: state) else { throw HTTPError(.notFound, message: "no run \(run.id)") }
            return try JSONResponse.ok(await completeReport(report))
        }
        router.get("api/runs/:id/chunks") { _, context in
            let run = try await Self.run(context, state)
            return try JSONResponse.ok(try await state.chunks(runID: run.id))
        }
        router.get("api/runs/:id/quarantine") { request, context in
            let run = try await Self.run(context, state)
            return try JSONResponse.ok(try await state.quarantine(runID: run.id, limit: try Self.limit(request)))
        }
        for (action, status) in [("pause", RunStatus.paused), ("resume", .running), ("cancel", .cancelled)] {
            router.post("api/runs/:id/\(action)") { request, context in
                try authorize(request)
                let run = try await Self.run(context, state)
                do {
                    let now = try await RunControl.change(state: state, run: run.id, to: status)
                    return try JSONResponse.ok(["run": String(run.id), "status": now.rawValue])
                } catch let error as BackfillError where error.code == .runConflict {
                    throw HTTPError(.conflict, message: error.message)
                }
            }
        }
        router.middlewares.add(MethodNotAllowed(routes: Self.routes))
        return router
    }

    /// The routes and the methods each answers: any other method gets 405 with `Allow`
    /// (`MethodNotAllowed`).
    static let routes: [(path: String, methods: [HTTPRequest.Method])] = [
        ("/", [.get]), ("healthz", [.get]), ("api/server", [.get]), ("metrics", [.get]), ("api/runs", [.get]),
        ("api/runs/:id", [.get]), ("api/runs/:id/report", [.get]), ("api/runs/:id/chunks", [.get]),
        ("api/runs/:id/quarantine", [.get]), ("api/runs/:id/pause", [.post]), ("api/runs/:id/resume", [.post]),
        ("api/runs/:id/cancel", [.post]),
    ]

    /// `?limit=` of the quarantine: 1…10000 (default 100); anything else is refused with 400.
    private static func limit(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["limit"].map(String.init) else { return 100 }
        guard let limit = Int(text), (1...10_000).contains(limit) else {
            throw HTTPError(.badRequest, message: "limit must be a whole number from 1 to 10000")
        }
        return limit
    }

    /// The run the path names; 404 when the state store has none.
    private static func run(_ context: BasicRequestContext, _ state: any StateStore) async throws -> RunRecord {
        guard let id = context.parameters.get("id", as: Int64.self) else { throw HTTPError(.badRequest, message: "a run id is a number") }
        guard let run = try await state.run(id: id) else { throw HTTPError(.notFound, message: "no run \(id)") }
        return run
    }

    private func authorize(_ request: Request) throws {
        guard let token else {
            throw HTTPError(.forbidden, message: "mutations are disabled: start the server with BACKFILL_API_TOKEN set")
        }
        let given = request.headers[.authorization] ?? ""
        let expected = "Bearer \(token)"
        // Constant time, whatever the first difference.
        let same = given.utf8.count == expected.utf8.count && zip(given.utf8, expected.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
        guard same else { throw HTTPError(.unauthorized, message: "a valid Authorization: Bearer token is required") }
    }
}

/// JSON bodies in the CLI's `--json` shapes (ISO 8601 dates, sorted keys).
enum JSONResponse {
    static func ok(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
