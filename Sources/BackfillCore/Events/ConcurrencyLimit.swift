/// How many requests may be in flight to a receiver: additive increase, multiplicative decrease.
///
/// It starts at the job's `concurrency`. When most recent answers say the receiver is overloaded
/// (429, 503, timeouts, refused connections) it halves — once per round trip: only an answer to a
/// request sent after the last decrease can halve it again, as TCP does — down to 1. Every
/// `current` answers that were not overload signs raise it by one, up to the maximum; a sporadic
/// sign in between does not start that count again. A lone 429 among healthy answers (one event's
/// `Retry-After`) delays that event, not the others.
public struct ConcurrencyLimit: Sendable, Equatable {
    public let maximum: Int
    public private(set) var current: Int
    /// Whether each of the most recent answers was an overload sign (a ring of `window` entries).
    private var recent: [Bool]
    private var next = 0
    private var overloadedInRecent = 0
    private var healthySinceIncrease = 0
    /// Requests sent up to this number were in flight at the last decrease.
    private var decreasedAt = 0

    /// - Parameters:
    ///   - maximum: the job's concurrency; the limit never exceeds it.
    ///   - window: how many recent answers "most" is taken over.
    public init(maximum: Int, window: Int = 20) {
        self.maximum = max(1, maximum)
        self.current = self.maximum
        self.recent = Array(repeating: false, count: max(2, window))
    }

    /// Learns from the answer to request number `request` (requests are numbered as sent), when
    /// `sent` requests have been sent so far.
    public mutating func answered(overloaded: Bool, request: Int, sent: Int) {
        if recent[next] { overloadedInRecent -= 1 }
        recent[next] = overloaded
        if overloaded { overloadedInRecent += 1 }
        next = (next + 1) % recent.count
        if overloaded {
            if overloadedInRecent * 2 > recent.count, request > decreasedAt, current > 1 {
                current = max(1, current / 2)
                decreasedAt = sent
                healthySinceIncrease = 0
            }
            return
        }
        healthySinceIncrease += 1
        if healthySinceIncrease >= current, current < maximum {
            current += 1
            healthySinceIncrease = 0
        }
    }
}
