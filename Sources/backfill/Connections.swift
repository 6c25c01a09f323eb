import AsyncHTTPClient
import BackfillCore
import BackfillHTTP
import BackfillMySQL
import BackfillPostgres
import Logging

/// The connections one command opens: a pool per PostgreSQL DSN (a job whose source and target
/// share a database opens it once) and, for a webhook target, one HTTP client. `shutdown()`
/// closes them all.
actor Connections {
    private let maxConnections: Int
    private let timeouts: PostgresTimeouts
    private var open: [String: PostgresDatabase] = [:]
    private var openMySQL: [String: MySQLDatabase] = [:]
    private var http: HTTPClient?

    /// Pools sized for the spec's workers, with its lock and statement timeouts; a transaction
    /// left idle for longer than `lease` (a stalled process) is ended by the server.
    init(_ spec: JobSpec, lease: Duration = .seconds(15)) {
        self.maxConnections = spec.workers + 2
        self.timeouts = PostgresTimeouts(
            lock: spec.limits.lockTimeout, statement: spec.limits.statementTimeout, idleInTransaction: PostgresTimeouts.idleLimit(lease: lease))
    }

    func database(_ dsn: String) async throws -> PostgresDatabase {
        if let database = open[dsn] { return database }
        let database = try await PostgresDatabase.connect(
            dsn, maxConnections: maxConnections, timeouts: timeouts, logger: Self.postgresLogger)
        open[dsn] = database
        return database
    }

    /// The MySQL database of a `mysql://` DSN, one per DSN; it checks the server answers.
    func mysql(_ dsn: String) async throws -> MySQLDatabase {
        if let database = openMySQL[dsn] { return database }
        let database = try MySQLDatabase(dsn: dsn)
        try await database.checkReachable()
        openMySQL[dsn] = database
        return database
    }

    /// The command's HTTP client, made on first use.
    func httpClient() -> HTTPClient {
        if let http { return http }
        let client = WebhookSink.makeClient()
        http = client
        return client
    }

    /// Runs `body` with the connections of `spec`, then closes them, whether `body` returns or throws.
    static func using<T>(_ spec: JobSpec, lease: Duration = .seconds(15), _ body: (Connections) async throws -> T) async throws -> T {
        let connections = Connections(spec, lease: lease)
        do {
            let result = try await body(connections)
            await connections.shutdown()
            return result
        } catch {
            await connections.shutdown()
            throw error
        }
    }

    /// Closes the pools and shuts the HTTP client down.
    func shutdown() async {
        for database in open.values { database.close() }
        open = [:]
        if let http { try? await http.shutdown() }
        http = nil
    }

    /// postgres-nio's own messages: only critical ones (backfill reports every failure itself).
    static var postgresLogger: Logger {
        var logger = LogBootstrap.logger("backfill.postgres")
        logger.logLevel = .critical
        return logger
    }
}
