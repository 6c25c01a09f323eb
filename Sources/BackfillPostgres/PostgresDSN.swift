import BackfillCore
import Foundation
import PostgresNIO

/// A `postgres://user:password@host:port/database?sslmode=…` connection string, parsed.
///
/// Without a password in it, the password is `PGPASSWORD`'s, as libpq does. Only the settings
/// `backfill` acts on are accepted; anything else is an error that names the
/// parameter, so a typo never silently connects somewhere unintended. The password never appears
/// in `description` or in errors.
public struct PostgresDSN: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    var password: String?
    public var database: String
    public var tls: TLSMode
    public var connectTimeout: Duration

    /// Parses a DSN.
    /// - Throws: `BackfillError` `.invalidInput` naming what is wrong (never the password).
    public init(_ text: String) throws {
        let redacted = Redaction.redact(text)
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else {
            throw BackfillError(.invalidInput, "not a PostgreSQL connection string (expected postgres://user@host:port/database)", location: redacted)
        }
        guard let host = components.host, !host.isEmpty else {
            throw BackfillError(.invalidInput, "the connection string names no host", location: redacted)
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = components.user?.removingPercentEncoding ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        self.password = components.password?.removingPercentEncoding
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? self.user : (path.removingPercentEncoding ?? path)
        var tls = TLSMode.prefer
        var timeout = Duration.seconds(10)
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw BackfillError(.invalidInput, "sslmode must be disable, prefer, require or verify-full", location: redacted)
                }
                tls = mode
            case "connect_timeout":
                guard let seconds = item.value.flatMap(Int.init), seconds > 0 else {
                    throw BackfillError(.invalidInput, "connect_timeout must be a whole number of seconds", location: redacted)
                }
                timeout = .seconds(seconds)
            case "password":
                self.password = item.value
            default:
                throw BackfillError(.invalidInput, "unknown connection parameter '\(item.name)' (known: sslmode, connect_timeout, password)", location: redacted)
            }
        }
        self.tls = tls
        self.connectTimeout = timeout
        // As libpq: a DSN without a password takes PGPASSWORD's (specs need not hold one).
        if self.password == nil { self.password = ProcessInfo.processInfo.environment["PGPASSWORD"] }
    }

    /// `postgres://user@host:port/database`, without the password.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// The client configuration, with the session settings every `backfill` connection uses:
    /// `application_name = backfill`, UTC timestamps in ISO format, and float output that
    /// round-trips exactly.
    func clientConfiguration(maxConnections: Int) throws -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: try clientTLS())
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = max(2, maxConnections)
        configuration.options.minimumConnections = 0
        configuration.options.additionalStartupParameters = [
            ("application_name", "backfill"), ("TimeZone", "UTC"), ("DateStyle", "ISO, YMD"),
            ("extra_float_digits", "3"), ("IntervalStyle", "iso_8601"),
        ]
        return configuration
    }

    private func clientTLS() throws -> PostgresClient.Configuration.TLS {
        switch tls {
        case .disable:
            return .disable
        case .prefer, .require:
            // libpq's prefer/require encrypt without checking the certificate; verify-full checks it.
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            return tls == .prefer ? .prefer(unverified) : .require(unverified)
        case .verifyFull:
            return .require(TLSConfiguration.makeClientConfiguration())
        }
    }
}
