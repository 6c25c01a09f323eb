import ArgumentParser
import BackfillCore
import Logging

/// Options every command shares.
struct CommonOptions: ParsableArguments {
    @Flag(help: "Print the result as JSON (a stable shape) instead of text.")
    var json = false

    @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log lines on standard error: text, or json (one object per line with run, chunk, batch and counters).")
    var logFormat: LogFormat = .text

    /// Sets up swift-log once; only the executable does this.
    func bootstrapLogging() {
        LogBootstrap.once(level: logLevel, format: logFormat)
    }
}

/// Options of commands that find runs without a spec.
struct StateOptions: ParsableArguments {
    @Option(help: "The state store: a path to a SQLite file.")
    var state = ".backfill/state.db"
}

/// How long a process keeps the chunks it claims from a PostgreSQL state store.
struct LeaseOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "With a PostgreSQL state store: how long a claimed chunk stays this process's without a heartbeat (renewed every third of it); after that another process takes it over.",
        valueName: "duration"))
    var lease = "15s"

    var duration: Duration {
        .milliseconds(Int64(((JobSpec.durationSeconds(lease) ?? 15) * 1000).rounded()))
    }

    func validate() throws {
        guard let seconds = JobSpec.durationSeconds(lease), seconds >= 0.3, seconds <= 86_400 else {
            throw ValidationError("--lease must be a duration from 300ms to 24h, like 15s or 1m")
        }
    }

    /// Sets how often the runner renews the leases.
    func apply(to configuration: inout RunnerConfiguration) {
        configuration.heartbeatInterval = duration / 3
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

extension LogFormat: ExpressibleByArgument {}

enum LogBootstrap {
    private static let done = Mutex(false)

    static func once(level: Logger.Level, format: LogFormat = .text) {
        done.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                if format == .json {
                    var handler = JSONLogHandler(label: label)
                    handler.logLevel = level
                    return handler
                }
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }

    static func logger(_ label: String = "backfill") -> Logger { Logger(label: label) }
}

import Synchronization
