import ArgumentParser
import Logging

/// Options every command shares.
struct CommonOptions: ParsableArguments {
    @Flag(help: "Print the result as JSON (a stable shape) instead of text.")
    var json = false

    @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .info

    /// Sets up swift-log once; only the executable does this.
    func bootstrapLogging() {
        LogBootstrap.once(level: logLevel)
    }
}

/// Options of commands that find runs without a spec.
struct StateOptions: ParsableArguments {
    @Option(help: "The state store: a path to a SQLite file.")
    var state = ".backfill/state.db"
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

enum LogBootstrap {
    private static let done = Mutex(false)

    static func once(level: Logger.Level) {
        done.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }

    static func logger(_ label: String = "backfill") -> Logger { Logger(label: label) }
}

import Synchronization
