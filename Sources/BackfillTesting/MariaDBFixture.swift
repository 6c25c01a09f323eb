import Foundation

/// The MariaDB server `scripts/test.sh` starts (`MYSQL_HOST`, `MYSQL_PORT`, `MYSQL_USER`), reached
/// with the `mariadb` command-line client: each test makes its own databases in it.
public struct MariaDBFixture: Sendable {
    public let host: String
    public let port: Int
    public let user: String

    /// The server from the environment, or `nil` when the tests run without one.
    public static let server: MariaDBFixture? = {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["MYSQL_HOST"], let port = environment["MYSQL_PORT"].flatMap(Int.init) else { return nil }
        return MariaDBFixture(host: host, port: port, user: environment["MYSQL_USER"] ?? "root")
    }()

    /// The server's replica `scripts/test.sh` starts (`MYSQL_REPLICA_PORT`), replicating everything.
    public static let replica: MariaDBFixture? = {
        let environment = ProcessInfo.processInfo.environment
        guard let server, let port = environment["MYSQL_REPLICA_PORT"].flatMap(Int.init) else { return nil }
        return MariaDBFixture(host: server.host, port: port, user: server.user)
    }()

    public init(host: String, port: Int, user: String) {
        self.host = host
        self.port = port
        self.user = user
    }

    /// A DSN for `database` (TLS off: the throwaway server has no certificate).
    public func dsn(_ database: String, password: String? = nil) -> String {
        let credentials = password.map { "\(user):\($0)" } ?? user
        return "mysql://\(credentials)@\(host):\(port)/\(database)?ssl-mode=disabled&connect-timeout=30"
    }

    /// Creates a new, empty database with a unique name and returns the name.
    public func createDatabase(_ prefix: String) async throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        try await sql(nil, "CREATE DATABASE \(name) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        return name
    }

    /// Runs `sql` in `database` with `mariadb` (stopping at the first error) and returns its
    /// tab-separated output without column names, trimmed.
    @discardableResult
    public func sql(_ database: String?, _ sql: String) async throws -> String {
        try await CommandLineClient.run(
            ["mariadb", "--no-defaults", "-h", host, "-P", String(port), "-u", user, "--default-character-set=utf8mb4", "-N", "-B", "--raw"]
                + (database.map { [$0] } ?? []),
            input: sql)
    }

    /// `count|md5` over every row of `table` in key order: equal tables give equal strings.
    /// - Parameter columns: the columns, in a form `CONCAT_WS` takes (`id, HEX(data)`).
    public func fingerprint(_ database: String, table: String, columns: String, orderBy: String = "id") async throws -> String {
        try await sql(
            database,
            "SET SESSION group_concat_max_len = 1073741824; SELECT CONCAT(COUNT(*), '|', COALESCE(MD5(GROUP_CONCAT(CONCAT_WS(0x1F, \(columns)) ORDER BY \(orderBy) SEPARATOR 0x1E)), '')) FROM \(table)")
    }
}
