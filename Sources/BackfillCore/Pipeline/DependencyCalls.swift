import Logging

/// Calls to the source or the target: transient failures retried with backoff behind the
/// dependency's circuit breaker, each retry logged and counted, each opening of the circuit
/// logged and recorded as a run event.
struct DependencyCalls: Sendable {
    let runID: Int64
    let state: any StateStore
    let configuration: RunnerConfiguration
    let clock: any RunClock
    let sourceBreaker: CircuitBreaker
    let targetBreaker: CircuitBreaker

    init(context: WorkerContext) {
        self.runID = context.runID
        self.state = context.state
        self.configuration = context.configuration
        self.clock = context.clock
        self.sourceBreaker = context.sourceBreaker
        self.targetBreaker = context.targetBreaker
    }

    enum Dependency { case source, target }

    /// Calls `operation` (given the retries of this call so far) until it succeeds, fails
    /// permanently or runs out of attempts; adds its retries to `retries`.
    func call<T: Sendable>(
        _ dependency: Dependency, _ what: String, logger: Logger, retries: inout Int,
        _ operation: (_ retriesSoFar: Int) async throws -> T
    ) async throws -> T {
        let breaker = dependency == .source ? sourceBreaker : targetBreaker
        let retry = Retry(attempts: configuration.retries, base: configuration.backoffBase, breaker: breaker, clock: clock)
        var count = 0
        defer { retries += count }
        return try await retry.run(
            { try await operation(count) },
            onRetry: { error, attempt in
                count += 1
                var metadata = Runner.errorMetadata(error)
                metadata[LogKey.attempt] = .stringConvertible(attempt)
                logger.warning("\(what) failed; retrying", metadata: metadata)
            },
            onOpen: { error in await circuitOpened(breaker, error, logger: logger) })
    }

    /// Reads `request`'s batch from `source`, retried as `call` retries.
    func readBatch(from source: any Source, for request: BatchRequest, retries: inout Int) async throws -> SourceBatch {
        let (range, cursor, limit) = (request.chunk.range, request.cursor, request.limit)
        return try await call(.source, "batch", logger: request.logger, retries: &retries) { _ in
            try await source.read(chunk: range, after: cursor, limit: limit)
        }
    }

    /// Logs and records that a dependency's circuit opened.
    private func circuitOpened(_ breaker: CircuitBreaker, _ error: BackfillError, logger: Logger) async {
        let message = "circuit open for the \(breaker.dependency) after \(configuration.circuitFailures) failures in a row; "
            + "no calls for \(configuration.circuitCoolDown), then one probe"
        var metadata = Runner.errorMetadata(error)
        metadata[LogKey.reason] = .string(message)
        logger.warning("circuit open", metadata: metadata)
        try? await state.recordEvent(runID: runID, kind: "circuit-open", message: message)
    }
}
