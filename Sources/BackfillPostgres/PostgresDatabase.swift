import BackfillCore
import Logging
import PostgresNIO

/// One PostgreSQL database: a connection pool (postgres-nio's `PostgresClient`) running for the
/// lifetime of this object, and the few ways `backfill` talks to it.
///
/// Every connection identifies itself as `application_name = backfill` and reads timestamps in
/// UTC; see `PostgresDSN`.
public final class PostgresDatabase: Sendable {
    public let dsn: PostgresDSN
    let client: PostgresClient
    let logger: Logger
    private let running: Task<Void, Never>

    private init(dsn: PostgresDSN, maxConnections: Int) throws {
        var logger = Logger(label: "backfill.postgres")
        logger.logLevel = .critical
        self.dsn = dsn
        self.logger = logger
        let client = PostgresClient(configuration: try dsn.clientConfiguration(maxConnections: maxConnections), backgroundLogger: logger)
        self.client = client
        self.running = Task { await client.run() }
    }

    deinit { running.cancel() }

    /// Connects to the database a DSN names and checks it answers.
    /// - Parameter maxConnections: pool size; one per worker plus room for probes.
    /// - Throws: `BackfillError` `.invalidInput` naming the DSN (without its password) when the
    ///   server cannot be reached or refuses the login.
    public static func connect(_ text: String, maxConnections: Int = 8) async throws -> PostgresDatabase {
        let dsn = try PostgresDSN(text)
        let database = try PostgresDatabase(dsn: dsn, maxConnections: maxConnections)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await database.textRows("SELECT 1", "connecting") }
                group.addTask {
                    try await Task.sleep(for: dsn.connectTimeout)
                    throw BackfillError(.invalidInput, "no answer within \(dsn.connectTimeout.components.seconds) s")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as BackfillError {
            database.close()
            throw BackfillError(.invalidInput, "cannot connect: \(error.message)", location: dsn.description)
        } catch {
            database.close()
            throw BackfillError(.invalidInput, "cannot connect", location: dsn.description, underlying: error)
        }
        return database
    }

    /// Stops the pool; queries after this fail.
    public func close() { running.cancel() }

    /// Runs `query` and returns every cell as text (`nil` for NULL). Select `column::text` for
    /// anything that is not already text.
    func textRows(_ query: PostgresQuery, _ what: String) async throws -> [[String?]] {
        do {
            return try await client.withConnection { connection in
                try await Self.textRows(query, on: connection, logger: logger)
            }
        } catch {
            throw PostgresErrors.map(error, what, location: dsn.description)
        }
    }

    /// Runs `body` inside one transaction on one connection.
    func transaction<Result: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch {
            throw PostgresErrors.map(error, what, location: dsn.description)
        }
    }

    /// Runs `body` on one pooled connection, outside any transaction.
    func withConnection<Result: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withConnection { connection in try await body(connection) }
        } catch {
            throw PostgresErrors.map(error, what, location: dsn.description)
        }
    }

    static func textRows(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> [[String?]] {
        var result: [[String?]] = []
        for try await row in try await connection.query(query, logger: logger) {
            result.append(row.map { cell in cell.bytes.map { String(buffer: $0) } })
        }
        return result
    }
}
