import Foundation

/// Where the runner reads the time and waits: the system's clocks in production, a test clock
/// (`BackfillTesting.TestClock`) in tests, which advance it instead of sleeping.
///
/// Everything on the run path that reads a time or waits goes through one: the runner's
/// heartbeat and sampler, the workers' pauses and gates, retries, circuit breakers, rate limiters
/// and the throttle probe's cache.
public protocol RunClock: Sendable {
    /// The monotonic time: durations, deadlines, rates.
    var now: ContinuousClock.Instant { get }
    /// The wall-clock time: what windows are judged by.
    var date: Date { get }
    /// Waits `duration`; throws `CancellationError` when the task is cancelled first.
    func sleep(for duration: Duration) async throws
}

/// The system's clocks.
public struct SystemClock: RunClock {
    public init() {}
    public var now: ContinuousClock.Instant { .now }
    public var date: Date { Date() }
    public func sleep(for duration: Duration) async throws {
        guard duration > .zero else { return }
        try await Task.sleep(for: duration)
    }
}
