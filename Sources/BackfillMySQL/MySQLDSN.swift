import BackfillCore
import Foundation

/// A `mysql://user:password@host:port/database?ssl-mode=…` connection string, parsed.
///
/// Without a password in it, the password is `MYSQL_PWD`'s, as MySQL's own clients read it. Only
/// the settings `backfill` acts on are accepted; anything else is an error naming the parameter.
/// The password never appears in `description` or in errors.
public struct MySQLDSN: Sendable, CustomStringConvertible {
    /// MySQL's `--ssl-mode`: `disabled`, `preferred` (encrypt when the server can), `required`
    /// (encrypt, certificate unchecked) or `verify-identity` (encrypt and check the certificate).
    public enum TLSMode: String, Sendable {
        case disabled, preferred, required
        case verifyIdentity = "verify-identity"
    }

    public var host: String
    public var port: Int
    public var user: String
    var password: String?
    public var database: String
    public var tls: TLSMode
    /// Seconds to wait for a connection.
    public var connectTimeout: Int
    /// `innodb_lock_wait_timeout` of every connection: seconds a write waits for a row lock.
    public var lockWaitTimeout: Int
    /// `max_statement_time` (MariaDB) / `max_execution_time` (MySQL) of every connection's reads, seconds.
    public var statementTimeout: Int

    /// Parses a DSN.
    /// - Throws: `BackfillError` `.invalidInput` naming what is wrong (never the password).
    public init(_ text: String) throws {
        let redacted = Redaction.redact(text)
        guard let components = URLComponents(string: text), components.scheme == "mysql" || components.scheme == "mariadb" else {
            throw BackfillError(.invalidInput, "not a MySQL connection string (expected mysql://user@host:port/database)", location: redacted)
        }
        guard let host = components.host, !host.isEmpty else {
            throw BackfillError(.invalidInput, "the connection string names no host", location: redacted)
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty else {
            throw BackfillError(.invalidInput, "the connection string names no database (mysql://user@host:port/database)", location: redacted)
        }
        self.host = host
        self.port = components.port ?? 3306
        self.user = components.user?.removingPercentEncoding ?? ProcessInfo.processInfo.environment["USER"] ?? "root"
        self.password = components.password?.removingPercentEncoding
        self.database = path.removingPercentEncoding ?? path
        self.tls = .preferred
        self.connectTimeout = 10
        self.lockWaitTimeout = 5
        self.statementTimeout = 0
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            func seconds() throws -> Int {
                guard let seconds = Int(value), (0...604_800).contains(seconds) else {
                    throw BackfillError(.invalidInput, "\(item.name) must be a whole number of seconds, at most a week (604800)", location: redacted)
                }
                return seconds
            }
            switch item.name {
            case "ssl-mode", "ssl_mode", "sslmode":
                guard let mode = TLSMode(rawValue: value.lowercased().replacingOccurrences(of: "_", with: "-")) else {
                    throw BackfillError(.invalidInput, "ssl-mode must be disabled, preferred, required or verify-identity", location: redacted)
                }
                tls = mode
            case "connect-timeout", "connect_timeout": connectTimeout = max(1, try seconds())
            case "lock-wait-timeout", "innodb_lock_wait_timeout": lockWaitTimeout = max(1, try seconds())
            case "statement-timeout", "max_execution_time": statementTimeout = try seconds()
            case "password": password = item.value
            default:
                throw BackfillError(
                    .invalidInput,
                    "unknown connection parameter '\(item.name)' (known: ssl-mode, connect-timeout, lock-wait-timeout, statement-timeout, password)",
                    location: redacted)
            }
        }
        if password == nil { password = ProcessInfo.processInfo.environment["MYSQL_PWD"] }
    }

    /// `mysql://user@host:port/database`, without the password.
    public var description: String { "mysql://\(user)@\(host):\(port)/\(database)" }
}
