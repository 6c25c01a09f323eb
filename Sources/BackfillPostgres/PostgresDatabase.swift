import BackfillCore
import Logging
import PostgresNIO
import Synchronization

/// One PostgreSQL database: a connection pool (postgres-nio's `PostgresClient`) running for the
/// lifetime of this object, and the few ways `backfill` talks to it.
///
/// Every connection identifies itself as `application_name = backfill`, reads timestamps in UTC,
/// and runs with the job's `lock_timeout` and `statement_timeout` (see `PostgresTimeouts`).
/// Every operation also has a deadline on the client side: a connection that never answers (a
/// server that went away without closing the socket, a pool waiting on a dead server) costs a
/// retry, and the pool is rebuilt, instead of hanging the run.
public final class PostgresDatabase: Sendable {
    public let dsn: PostgresDSN
    public let timeouts: PostgresTimeouts
    let logger: Logger
    private let maxConnections: Int
    /// How often an operation that lost a deadlock or a serialization conflict is run again
    /// before its error is thrown (the loser's transaction was rolled back whole).
    private let conflictRetries: Int
    private let pool: Mutex<(client: PostgresClient, running: Task<Void, Never>)>

    private init(dsn: PostgresDSN, maxConnections: Int, timeouts: PostgresTimeouts, conflictRetries: Int, logger: Logger) throws {
        self.dsn = dsn
        self.timeouts = timeouts
        self.logger = logger
        self.maxConnections = maxConnections
        self.conflictRetries = conflictRetries
        self.pool = Mutex(try Self.startPool(dsn: dsn, maxConnections: maxConnections, timeouts: timeouts, logger: logger))
    }

    private static func startPool(
        dsn: PostgresDSN, maxConnections: Int, timeouts: PostgresTimeouts, logger: Logger
    ) throws -> (client: PostgresClient, running: Task<Void, Never>) {
        var configuration = try dsn.clientConfiguration(maxConnections: maxConnections)
        configuration.options.additionalStartupParameters += timeouts.startupParameters
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return (client, Task { await client.run() })
    }

    /// A logger that passes on only critical messages.
    public static var quietLogger: Logger {
        var logger = Logger(label: "backfill.postgres")
        logger.logLevel = .critical
        return logger
    }

    deinit { pool.withLock { $0.running.cancel() } }

    /// Connects to the database a DSN names and checks it answers.
    /// - Parameters:
    ///   - maxConnections: pool size; one per worker plus room for probes.
    ///   - conflictRetries: runs an operation that lost a deadlock or serialization conflict again
    ///     up to this often (for the state store's short transactions; writers retry on their own).
    ///   - logger: postgres-nio's own log (its connection pool and queries); by default only
    ///     critical messages, since backfill reports every failure itself.
    /// - Throws: `BackfillError` `.invalidInput` naming the DSN (without its password) when the
    ///   server cannot be reached or refuses the login.
    public static func connect(
        _ text: String, maxConnections: Int = 8, timeouts: PostgresTimeouts = PostgresTimeouts(), conflictRetries: Int = 0,
        logger: Logger = PostgresDatabase.quietLogger
    ) async throws -> PostgresDatabase {
        let dsn = try PostgresDSN(text)
        if await ServerReachability.refuses(host: dsn.host, port: dsn.port) {
            throw BackfillError(
                .invalidInput, "cannot connect: connection refused (no server listens on \(dsn.host):\(dsn.port); is PostgreSQL running there?)",
                location: dsn.description)
        }
        let database = try PostgresDatabase(dsn: dsn, maxConnections: maxConnections, timeouts: timeouts, conflictRetries: conflictRetries, logger: logger)
        do {
            // A refused or unreachable server makes the pool retry quietly: give up after the
            // connect timeout instead of a statement's deadline.
            _ = try await database.withConnection("connecting", within: dsn.connectTimeout + .seconds(1)) { connection in
                try await connection.checkedQuery("SELECT 1", logger: database.logger)
            }
        } catch let error as BackfillError {
            database.close()
            throw BackfillError(.invalidInput, "cannot connect: \(error.message)", location: dsn.description)
        }
        return database
    }

    /// Stops the pool; queries after this fail.
    public func close() { pool.withLock { $0.running.cancel() } }

    /// The longest one operation may take on the client side: a connection attempt, then a
    /// statement that may wait for its locks.
    var deadline: Duration { dsn.connectTimeout + .seconds(timeouts.statement + 5) }

    /// Runs `body` on one pooled connection within `deadline`.
    /// - Throws: `BackfillError` (transient when the deadline passes; then the pool is rebuilt).
    func withConnection<Result: Sendable>(
        _ what: String, within limit: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        var attempt = 0
        while true {
            do {
                return try await once(what, within: limit, body)
            } catch let error as BackfillError where attempt < conflictRetries && PostgresErrors.isConflict(error) {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...50) * attempt))
            }
        }
    }

    private func once<Result: Sendable>(
        _ what: String, within limit: Duration?, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let client = pool.withLock { $0.client }
        let deadline = limit ?? self.deadline
        do {
            return try await Deadline.run(within: deadline) {
                try await client.withConnection { connection in try await body(connection) }
            }
        } catch is Deadline.Passed {
            resetPool()
            throw BackfillError(
                .unavailable, kind: .transient, "\(what): no answer within \(deadline.components.seconds) s; reconnecting",
                location: dsn.description)
        } catch {
            throw PostgresErrors.map(error, what, location: dsn.description)
        }
    }

    /// Runs `body` inside one transaction (`BEGIN` … `COMMIT`, `ROLLBACK` on error) on one connection.
    /// - Parameter commit: `false` rolls the transaction back even when `body` succeeds (dry runs).
    func transaction<Result: Sendable>(
        _ what: String, commit: Bool = true, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        return try await withConnection(what) { connection in
            try await connection.checkedQuery("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.checkedQuery(commit ? "COMMIT" : "ROLLBACK", logger: logger)
                return result
            } catch {
                if !connection.isClosed { _ = try? await connection.checkedQuery("ROLLBACK", logger: logger) }
                throw error
            }
        }
    }

    /// Runs one statement that returns no rows (DDL, for tools and the demo).
    public func execute(_ sql: String) async throws {
        _ = try await textRows(PostgresQuery(unsafeSQL: sql), "running a statement")
    }

    /// Runs `query` and returns every cell as text (`nil` for NULL). Select `column::text` for
    /// anything that is not already text.
    func textRows(_ query: PostgresQuery, _ what: String) async throws -> [[String?]] {
        let logger = self.logger
        return try await withConnection(what) { connection in try await Self.textRows(query, on: connection, logger: logger) }
    }

    /// Rows of a name and a count (`SELECT name, count(*)::text … GROUP BY 1`) as a dictionary.
    static func namedCounts(_ rows: [[String?]]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: rows.compactMap { row in
            guard let name = row[0] ?? nil, let count = (row[1] ?? nil).flatMap({ Int($0) }) else { return nil }
            return (name, count)
        })
    }

    static func textRows(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> [[String?]] {
        var result: [[String?]] = []
        for try await row in try await connection.checkedQuery(query, logger: logger) {
            result.append(row.map { cell in cell.bytes.map { String(buffer: $0) } })
        }
        return result
    }

    /// Replaces the pool: the old one is shut down, which fails whatever still waits on it.
    private func resetPool() {
        guard let fresh = try? Self.startPool(dsn: dsn, maxConnections: maxConnections, timeouts: timeouts, logger: logger) else { return }
        let old = pool.withLock { current in
            let old = current
            current = fresh
            return old
        }
        old.running.cancel()
    }
}

/// `lock_timeout`, `statement_timeout` and `idle_in_transaction_session_timeout` for every
/// connection (`limits.lock-timeout`, `limits.statement-timeout`, the process's lease).
public struct PostgresTimeouts: Sendable, Hashable {
    /// Longest wait for a row or table lock before the batch is retried (default 2 s).
    public var lock: Double = 2
    /// Longest a single statement may run before it is cancelled and retried (default 60 s).
    public var statement: Double = 60
    /// Longest a transaction may sit open with no statement running before the server ends the
    /// session (default 15 s, the default lease). Backfill's transactions never wait on anything
    /// but their own statements, so only a stalled process (stopped, swapped out, frozen VM) trips
    /// it — and a process stalled past its lease has lost its chunks anyway: ending its session
    /// frees the locks it holds on the target's rows and the state rows every worker's checkpoint
    /// updates, which would otherwise stall every other worker until the process came back.
    public var idleInTransaction: Double = 15

    public init(lock: Double = 2, statement: Double = 60, idleInTransaction: Double = 15) {
        self.lock = lock
        self.statement = statement
        self.idleInTransaction = idleInTransaction
    }

    /// The idle-in-transaction limit for a process leasing chunks for `lease`: the lease, but at
    /// least a second, so a very short lease on a loaded machine does not end healthy transactions.
    public static func idleLimit(lease: Duration) -> Double {
        max(lease.inSeconds, 1)
    }

    var startupParameters: [(String, String)] {
        [("lock_timeout", "\(Int(lock * 1000))ms"), ("statement_timeout", "\(Int(statement * 1000))ms"),
         ("idle_in_transaction_session_timeout", "\(Int(idleInTransaction * 1000))ms")]
    }
}

/// Races an operation against a clock without waiting for the operation to notice cancellation:
/// a task group would wait for a child that never returns.
enum Deadline {
    struct Passed: Error {}

    static func run<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome = Once<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.install(continuation)
                // The clock is stopped as soon as the work finishes, so no sleeping task outlives it.
                outcome.onFinish(Task {
                    try? await Task.sleep(for: limit)
                    if !Task.isCancelled, outcome.resume(.failure(Passed())) { outcome.cancelWork() }
                })
                let work = Task {
                    do { outcome.resume(.success(try await body())) } catch { outcome.resume(.failure(error)) }
                }
                outcome.onCancel { work.cancel() }
            }
        } onCancel: {
            outcome.cancel()
        }
    }

    /// Resumes a continuation exactly once, whoever comes first.
    final class Once<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var done = false
            var cancelWork: (@Sendable () -> Void)?
            var timer: Task<Void, Never>?
        }
        private let state = Mutex(State())

        func install(_ continuation: CheckedContinuation<T, any Error>) {
            let cancelledAlready = state.withLock { state in
                if !state.done { state.continuation = continuation }
                return state.done
            }
            if cancelledAlready { continuation.resume(throwing: CancellationError()) }
        }

        func onCancel(_ action: @escaping @Sendable () -> Void) {
            state.withLock { $0.cancelWork = action }
        }

        /// The clock to stop when the outcome is known.
        func onFinish(_ timer: Task<Void, Never>) {
            let stopNow = state.withLock { state in
                state.timer = timer
                return state.done
            }
            if stopNow { timer.cancel() }
        }

        func cancelWork() {
            state.withLock { $0.cancelWork }?()
        }

        /// - Returns: `true` when this call resumed the continuation.
        @discardableResult
        func resume(_ result: Result<T, any Error>) -> Bool {
            let (continuation, timer): (CheckedContinuation<T, any Error>?, Task<Void, Never>?) = state.withLock { state in
                guard !state.done else { return (nil, nil) }
                state.done = true
                defer { state.continuation = nil }
                return (state.continuation, state.timer)
            }
            timer?.cancel()
            continuation?.resume(with: result)
            return continuation != nil
        }

        func cancel() {
            cancelWork()
            resume(.failure(CancellationError()))
        }
    }
}
