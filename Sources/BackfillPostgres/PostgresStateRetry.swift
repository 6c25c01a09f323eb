import BackfillCore
import Synchronization

/// How the PostgreSQL state store rides out a server restart or a dropped connection: a call that
/// failed transiently (connection lost, refused or cut, server shutting down or starting up, a
/// client deadline) is made again with a growing pause, so that a worker between two batches is
/// not stopped by the restart its batch's own retries would survive. Only calls that may run twice
/// use it; a claim finds its own lost answer (see `PostgresStateStore.claimChunk`).
struct PostgresStateRetry: Sendable {
    /// Calls after the first.
    var retries = 8
    /// The first pause; each next one doubles, up to `longest`.
    var first: Duration = .milliseconds(100)
    var longest: Duration = .seconds(2)
    /// Calls repeated so far, by every copy of this value.
    let repeated = Counter()

    /// Runs `call`, again while it fails transiently.
    func run<T: Sendable>(_ call: () async throws -> T) async throws -> T {
        try await run(call, beforeRetry: { nil })
    }

    /// Runs `call`; before each repeat, `beforeRetry` may find the answer a lost reply carried
    /// (a claim's chunk), and then that is the result.
    func run<T: Sendable>(_ call: () async throws -> T, beforeRetry: () async throws -> T?) async throws -> T {
        var attempt = 0
        var pause = first
        while true {
            do {
                if attempt > 0, let recovered = try await beforeRetry() { return recovered }
                return try await call()
            } catch let error as BackfillError where error.kind == .transient && attempt < retries {
                attempt += 1
                repeated.add()
                try await Task.sleep(for: pause)
                pause = min(pause * 2, longest)
            }
        }
    }
}

/// A count shared by the copies of a value.
final class Counter: Sendable {
    private let count = Mutex(0)

    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
