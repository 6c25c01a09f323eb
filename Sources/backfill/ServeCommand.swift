import ArgumentParser
import BackfillCore
import BackfillServer
import Foundation
import Hummingbird

/// `backfill serve`: the JSON API, `/metrics` and `/healthz` over a state store.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the JSON API, /metrics and /healthz over a state store (SQLite or PostgreSQL).",
        discussion: """
            Reads need no token. Pause, resume and cancel need Authorization: Bearer $BACKFILL_API_TOKEN; \
            without the variable they are disabled (403). Binds 127.0.0.1 unless told otherwise; --port 0 \
            picks a free port. Prints "serving on http://HOST:PORT" once it listens.
            """)

    @Option(help: "The state store: a SQLite file or a postgres:// DSN.")
    var state = ".backfill/state.db"

    @Option(help: "The address to bind.")
    var host = "127.0.0.1"

    @Option(help: "The port (0: any free port).")
    var port = 8080

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let store = try await JobWiring.openState(state, create: false)
            let token = ProcessInfo.processInfo.environment["BACKFILL_API_TOKEN"]
            let api = BackfillAPI(state: store, token: token)
            let host = self.host
            var logger = LogBootstrap.logger("backfill.serve")
            logger.logLevel = common.logLevel
            let app = Application(
                router: api.router(),
                configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "backfill"),
                onServerRunning: { channel in
                    let bound = channel.localAddress?.port ?? 0
                    let note = (token ?? "").isEmpty ? " (mutations disabled: BACKFILL_API_TOKEN is not set)" : ""
                    FileHandle.standardOutput.write(Data("serving on http://\(host):\(bound)\(note)\n".utf8))
                },
                logger: logger)
            try await app.runService()
        }
    }
}
