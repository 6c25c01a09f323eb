/// Whether a receiver answers at all — a circuit breaker for requests that got no answer (a
/// refused connection, a timeout), which say nothing about the event and everything about the
/// receiver.
///
/// After `failuresToOpen` unanswered requests in a row the circuit opens: one probe at a time,
/// the first after `firstProbe`, each failed one doubling the wait up to `longestProbe` (the job's
/// `limits.circuit.cool-down`). Any answer — even a 500 — closes it. After `maxFailedProbes` failed
/// probes in a row the receiver is taken to be gone.
public struct ReceiverHealth: Sendable, Equatable {
    public let failuresToOpen: Int
    public let firstProbe: Duration
    public let longestProbe: Duration
    public let maxFailedProbes: Int
    /// Requests in a row that got no answer.
    public private(set) var unanswered = 0
    public private(set) var isOpen = false
    public private(set) var failedProbes = 0
    /// How long to wait before the next probe while open.
    public private(set) var probeDelay: Duration

    /// What an unanswered request changed.
    public enum Change: Sendable, Equatable {
        case none
        /// The circuit just opened.
        case opened
        /// A probe failed; the next one waits `probeDelay`.
        case probeFailed
        /// `maxFailedProbes` probes failed in a row.
        case gone
    }

    public init(failuresToOpen: Int, firstProbe: Duration, longestProbe: Duration, maxFailedProbes: Int) {
        self.failuresToOpen = max(1, failuresToOpen)
        self.firstProbe = max(firstProbe, .milliseconds(1))
        self.longestProbe = max(longestProbe, self.firstProbe)
        self.maxFailedProbes = max(1, maxFailedProbes)
        self.probeDelay = self.firstProbe
    }

    /// The receiver answered (any status): the circuit closes. `true` when it was open.
    public mutating func answered() -> Bool {
        defer {
            unanswered = 0
            isOpen = false
            failedProbes = 0
            probeDelay = firstProbe
        }
        return isOpen
    }

    /// A request got no answer; `probe`: it was sent while the circuit was open (requests sent
    /// before it opened and failing since do not count as failed probes).
    public mutating func notAnswered(probe: Bool) -> Change {
        unanswered += 1
        guard isOpen else {
            guard unanswered >= failuresToOpen else { return .none }
            isOpen = true
            return .opened
        }
        guard probe else { return .none }
        failedProbes += 1
        if failedProbes >= maxFailedProbes { return .gone }
        probeDelay = min(probeDelay * 2, longestProbe)
        return .probeFailed
    }
}
