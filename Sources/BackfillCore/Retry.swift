/// Retries transient failures with exponential backoff and full jitter, behind a circuit breaker:
/// while the dependency's circuit is open no call goes out and the caller waits out the cool-down.
struct Retry: Sendable {
    var attempts: Int
    var base: Duration
    var breaker: CircuitBreaker? = nil

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
                if wait > .zero { try await Task.sleep(for: wait) }
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
                if !opened { try await Task.sleep(for: jitteredDelay(attempt: attempt)) }
            }
        }
    }

    private func jitteredDelay(attempt: Int) -> Duration {
        let cap = min(base * (1 << min(attempt, 16)), .seconds(30))
        let ms = cap.components.seconds * 1000 + cap.components.attoseconds / 1_000_000_000_000_000
        return .milliseconds(Int64.random(in: 0...max(1, ms)))
    }
}
