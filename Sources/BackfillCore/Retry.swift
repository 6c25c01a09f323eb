/// Retries transient failures with exponential backoff and full jitter.
struct Retry: Sendable {
    var attempts: Int
    var base: Duration

    /// Runs `operation`, retrying `BackfillError`s of kind `.transient`; `onRetry` hears each retry.
    func run<T: Sendable>(
        _ operation: () async throws -> T, onRetry: (BackfillError, Int) -> Void = { _, _ in }
    ) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await operation()
            } catch let error as BackfillError where error.kind == .transient && attempt < attempts {
                attempt += 1
                onRetry(error, attempt)
                let cap = min(base * (1 << min(attempt, 16)), .seconds(10))
                let ms = cap.components.seconds * 1000 + cap.components.attoseconds / 1_000_000_000_000_000
                try await Task.sleep(for: .milliseconds(Int64.random(in: 0...max(1, ms))))
            }
        }
    }
}
