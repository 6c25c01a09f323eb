/// Retries transient failures with exponential backoff and full jitter, behind a circuit breaker:
/// while the dependency's circuit is open no call goes out and the caller waits out the cool-down.
struct Retry: Sendable {
    var attempts: Int
    var base: Duration
    var breaker: CircuitBreaker? = nil
    var clock: any RunClock = SystemClock()

    /// Runs `operation`, retrying `BackfillError`s of kind `.transient`; `onRetry` hears each retry,
    /// `onOpen` each time the circuit opens.
    func run<T: Sendable>(
        _ operation: () async throws -> T, onRetry: (BackfillError, Int) -> Void = { _, _ in },
        onOpen: (BackfillError) async -> Void = { _ in }
    ) async throws -> T {
        var attempt = 0
        while true {
            if let breaker {
                let wait = await breaker.delayBeforeCall()
                if wait > .zero { try await clock.sleep(for: wait) }
            }
            do {
                let result = try await operation()
                await breaker?.succeeded()
                return result
            } catch let error as BackfillError where error.kind == .transient {
                let opened = await breaker?.failed() ?? false
                if opened { await onOpen(error) }
                guard attempt < attempts else { throw error }
                attempt += 1
                onRetry(error, attempt)
                if !opened { try await clock.sleep(for: Backoff.jittered(base: base, attempt: attempt)) }
            }
        }
    }
}

/// The delay before a retry: exponential backoff with full jitter, capped at 30 s — for the
/// runner's retries and a webhook's per-event ones alike.
public enum Backoff {
    /// A random delay between 0 and `base × 2^attempt` (at most 30 s).
    public static func jittered(base: Duration, attempt: Int) -> Duration {
        let cap = min(base * (1 << min(attempt, 16)), .seconds(30))
        return .milliseconds(Int64.random(in: 0...max(1, Int64(cap.inSeconds * 1000))))
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
