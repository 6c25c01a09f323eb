import ArgumentParser
import BackfillCore
import BackfillServer
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `backfill serve`: the dashboard, the JSON API, `/metrics` and `/healthz` over a state store.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the dashboard, the JSON API, /metrics and /healthz over a state store (SQLite or PostgreSQL).",
        discussion: """
            Reads need no token. Pause, resume and cancel need Authorization: Bearer $BACKFILL_API_TOKEN; \
            without the variable they are disabled (403). Binds 127.0.0.1 unless told otherwise; --port 0 \
            picks a free port. Prints "serving on http://HOST:PORT" once it listens. SIGTERM or SIGINT \
            stop it gracefully (requests in flight finish).
            """)

    @Option(help: "The state store: a SQLite file or a postgres:// DSN.")
    var state = ".backfill/state.db"

    @OptionGroup var server: ServerOptions

    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let store = try await JobWiring.openState(state, create: false)
            let api = BackfillAPI(state: store, token: ServerOptions.token, completeReport: ReportCommand.completing(state: store))
            let app = server.application(api, logLevel: common.logLevel) { address in
                FileHandle.standardOutput.write(Data("\(address)\n".utf8))
            }
            try await app.runService()
        }
    }
}

/// Where the server listens: `serve`, and `run --serve`.
struct ServerOptions: ParsableArguments {
    @Option(help: "The address to bind.")
    var host = "127.0.0.1"

    @Option(help: "The port (0: any free port).")
    var port = 8080

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
    }

    /// `BACKFILL_API_TOKEN`, which enables pause, resume and cancel.
    static var token: String? { ProcessInfo.processInfo.environment["BACKFILL_API_TOKEN"] }

    /// The server for `api`; `announce` gets "serving on http://HOST:PORT" (and whether mutations
    /// are disabled) once it listens.
    func application(
        _ api: BackfillAPI, logLevel: Logger.Level, announce: @escaping @Sendable (String) -> Void
    ) -> some ApplicationProtocol {
        let host = self.host
        var logger = LogBootstrap.logger("backfill.serve")
        logger.logLevel = logLevel
        let mutations = api.mutationsEnabled
        return Application(
            router: api.router(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "backfill"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                announce("serving on http://\(host):\(bound)" + (mutations ? "" : " (mutations disabled: BACKFILL_API_TOKEN is not set)"))
            },
            logger: logger)
    }

    /// The dashboard, API and `/metrics` served beside a run or a worker (`--serve`), as a service
    /// of the run's group. The process's own metrics (batch durations, waits) go to the same
    /// Prometheus registry as the state store's totals.
    func dashboard(_ state: any StateStore, logLevel: Logger.Level) -> some Service {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let api = BackfillAPI(state: state, token: Self.token, registry: registry, completeReport: ReportCommand.completing(state: state))
        return application(api, logLevel: logLevel) { address in
            FileHandle.standardError.write(Data("dashboard: \(address)\n".utf8))
        }
    }
}
