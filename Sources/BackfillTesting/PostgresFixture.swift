import Foundation

/// The PostgreSQL server `scripts/test.sh` starts (`POSTGRES_HOST`, `POSTGRES_PORT`,
/// `POSTGRES_USER`), reached with `psql`: each test makes its own databases in it.
public struct PostgresFixture: Sendable {
    public let host: String
    public let port: Int
    public let user: String

    /// The server from the environment, or `nil` when the tests run without one.
    public static let server: PostgresFixture? = {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["POSTGRES_HOST"], let port = environment["POSTGRES_PORT"].flatMap(Int.init) else { return nil }
        return PostgresFixture(host: host, port: port, user: environment["POSTGRES_USER"] ?? "postgres")
    }()

    public init(host: String, port: Int, user: String) {
        self.host = host
        self.port = port
        self.user = user
    }

    /// A DSN for `database` (TLS off: the throwaway cluster has no certificate).
    public func dsn(_ database: String, password: String? = nil) -> String {
        let credentials = password.map { "\(user):\($0)" } ?? user
        // A generous connect timeout: a test process's few threads can be busy for a while.
        return "postgres://\(credentials)@\(host):\(port)/\(database)?sslmode=disable&connect_timeout=30"
    }

    /// Creates a new, empty database with a unique name and returns the name.
    public func createDatabase(_ prefix: String) async throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await psql("postgres", "CREATE DATABASE \(name)")
        return name
    }

    /// Runs `sql` in `database` with `psql` (stopping at the first error) and returns its
    /// unaligned, tuples-only output, trimmed.
    @discardableResult
    public func psql(_ database: String, _ sql: String) async throws -> String {
        try await CommandLineClient.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", String(port), "-U", user, "-d", database],
            input: sql, environment: ["PGTZ": "UTC"])
    }

    /// `count|md5` over every row of `table` as text in key order: equal tables give equal strings.
    public func fingerprint(_ database: String, table: String, orderBy: String = "id") async throws -> String {
        try await psql(database, "SELECT count(*) || '|' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY \(orderBy))), '') FROM \(table) t")
    }

    /// Runs blocking work on a thread of its own, keeping Swift concurrency's few threads free —
    /// and Dispatch's too: Foundation notices child processes exit on a Dispatch queue, so
    /// waiting for processes on Dispatch threads can starve that notice.
    public static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}

/// A fixture could not be set up.
public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
