import BackfillCore
import NIOPosix
import Synchronization

/// A MySQL or MariaDB database: a pool of blocking connections whose calls run on a thread pool
/// of their own, so a statement waiting on the server never holds one of Swift concurrency's few
/// threads. A connection that failed is closed, never reused; the next call opens a new one.
public final class MySQLDatabase: Sendable {
    public let dsn: MySQLDSN
    private let library: MariaDBLibrary
    private let idle = Mutex<[MySQLConnection]>([])

    /// Threads for blocking calls, shared by every MySQL database of the process: enough for every
    /// worker and verify's parallel reads to wait on the server at once.
    private static let threads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 64)
        pool.start()
        return pool
    }()

    /// Parses the DSN and loads the client library; connects on first use.
    /// - Throws: `BackfillError` `.invalidInput` for a malformed DSN or a missing library.
    public init(dsn text: String) throws {
        self.dsn = try MySQLDSN(text)
        self.library = try MariaDBLibrary.shared.get()
    }

    /// Where errors say they happened: the DSN without its password.
    public var location: String { dsn.description }

    /// Runs `body` with a connection of the pool, on the pool's threads.
    /// - Throws: `BackfillError`, mapped by `MySQLErrors` with `what` as the operation.
    func withConnection<T: Sendable>(_ what: String, _ body: @escaping @Sendable (MySQLConnection) throws -> T) async throws -> T {
        do {
            return try await Self.threads.runIfActive { [self] in
                if let pooled = idle.withLock({ $0.popLast() }) {
                    do {
                        return try run(body, on: pooled)
                    } catch let error as MySQLServerError where error.isLostConnection {
                        // Closed while idle (the server's wait_timeout, a restart): once more on a new
                        // connection. The lost one's transaction was rolled back by the server.
                    }
                }
                return try run(body, on: MySQLConnection(dsn, library: library))
            }
        } catch {
            throw MySQLErrors.map(error, what, location: location)
        }
    }

    /// `body` on `connection`, which goes back to the pool unless it failed. Blocking.
    private func run<T>(_ body: (MySQLConnection) throws -> T, on connection: MySQLConnection) throws -> T {
        do {
            let result = try body(connection)
            idle.withLock { $0.append(connection) }
            return result
        } catch let error as MySQLServerError where !error.isConnectionError {
            // The server answered: the connection is fine once the transaction the statement was
            // in is rolled back (when that fails, the connection is dropped).
            if (try? connection.execute("ROLLBACK")) != nil { idle.withLock { $0.append(connection) } }
            throw error
        }
    }

    /// The rows of a query, each cell as bytes (`nil` = NULL).
    func rows(_ sql: String, _ what: String) async throws -> [[[UInt8]?]] {
        try await withConnection(what) { try $0.rows(sql) }
    }

    /// The column names and rows of a query (a `SHOW` statement).
    func namedRows(_ sql: String, _ what: String) async throws -> (names: [String], rows: [[[UInt8]?]]) {
        try await withConnection(what) { try $0.namedRows(sql) }
    }

    /// Runs statements in one transaction on one connection; rolled back when `body` throws.
    func transaction<T: Sendable>(_ what: String, _ body: @escaping @Sendable (MySQLConnection) throws -> T) async throws -> T {
        try await withConnection(what) { connection in
            try connection.execute("START TRANSACTION")
            let result = try body(connection)
            try connection.execute("COMMIT")
            return result
        }
    }

    /// Checks the server answers, for a clear error before a run starts.
    /// - Throws: `BackfillError` naming the server (never the password) and why.
    public func checkReachable() async throws {
        _ = try await rows("SELECT 1", "connecting")
    }
}
