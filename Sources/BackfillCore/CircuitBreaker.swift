/// The state machine of a circuit breaker, without I/O: closed → open after `threshold`
/// consecutive failures → half-open (one probe) after `coolDown` → closed on success, open again
/// on failure.
public struct CircuitBreakerState: Sendable {
    public enum Phase: Sendable, Equatable {
        case closed(failures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen
    }

    /// What a caller must do before calling the dependency.
    public enum Action: Sendable, Equatable {
        case proceed
        case wait(until: ContinuousClock.Instant)
    }

    public private(set) var phase: Phase = .closed(failures: 0)
    public let threshold: Int
    public let coolDown: Duration

    public init(threshold: Int, coolDown: Duration) {
        self.threshold = max(1, threshold)
        self.coolDown = coolDown
    }

    public mutating func beforeCall(now: ContinuousClock.Instant) -> Action {
        guard case .open(let until) = phase else { return .proceed }
        if now >= until {
            phase = .halfOpen
            return .proceed
        }
        return .wait(until: until)
    }

    public mutating func succeeded() {
        phase = .closed(failures: 0)
    }

    /// Records a failure; returns `true` when it opened the circuit.
    public mutating func failed(now: ContinuousClock.Instant) -> Bool {
        switch phase {
        case .closed(let failures) where failures + 1 < threshold:
            phase = .closed(failures: failures + 1)
            return false
        case .open:
            return false
        default:
            phase = .open(until: now + coolDown)
            return true
        }
    }
}

/// A circuit breaker shared by the workers of a run for one dependency (the source, the target).
public actor CircuitBreaker {
    public let dependency: String
    private var state: CircuitBreakerState
    private let clock: any RunClock

    public init(dependency: String, threshold: Int, coolDown: Duration, clock: any RunClock = SystemClock()) {
        self.dependency = dependency
        self.clock = clock
        self.state = CircuitBreakerState(threshold: threshold, coolDown: coolDown)
    }

    /// How long to wait before the next call may go out (zero when the circuit is closed or half-open).
    public func delayBeforeCall() -> Duration {
        let now = clock.now
        switch state.beforeCall(now: now) {
        case .proceed: return .zero
        case .wait(let until): return now.duration(to: until)
        }
    }

    public func succeeded() { state.succeeded() }

    /// Records a failure; `true` when the circuit just opened.
    public func failed() -> Bool { state.failed(now: clock.now) }

    public var phase: CircuitBreakerState.Phase { state.phase }
}
