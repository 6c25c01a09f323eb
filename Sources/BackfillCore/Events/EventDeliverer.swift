/// A target that takes events one request at a time (a webhook). The runner's `EventFlow`
/// decides which event goes when — each order key's events one at a time and in order, other keys
/// meanwhile, as many in flight as the receiver keeps up with; the deliverer makes one attempt and
/// says how the receiver answered.
public protocol EventDeliverer: Sink {
    /// Where events go, without credentials (for messages).
    var endpoint: String { get }
    /// Requests in flight at most (the job's `target.concurrency`).
    var concurrency: Int { get }
    /// Attempts of one event before its failure counts against the target's circuit breaker
    /// (`limits.retries` + 1).
    var attemptsPerRound: Int { get }
    /// The base of the backoff between an event's attempts (`limits.backoff`).
    var backoff: Duration { get }

    /// The event's id: its `Idempotency-Key` and its entry in the ledger.
    func eventID(of row: [Value]) -> String
    /// The event's order key (`nil`: the job names none, every event is its own key).
    func orderKey(of row: [Value]) -> Value?
    /// Which of `ids` were delivered before (the ledger).
    func delivered(among ids: [String]) async throws -> Set<String>
    /// Records acknowledged events in the ledger, durably.
    func record(_ ids: [String]) async throws
    /// One request for the event, and how it went. Never throws: a failed request is an answer too.
    func attempt(_ row: [Value], id: String) async -> DeliveryAttempt
    /// The event was answered for good after `retries` retried requests (the retry histogram).
    func settled(afterRetries retries: Int) async
}

/// How one request for an event went.
public enum DeliveryAttempt: Sendable, Equatable {
    /// A 2xx: the receiver has the event.
    case delivered
    /// A 4xx other than 408 and 429: the receiver will never take the event; the reason names the
    /// status and an excerpt of the answer.
    case refused(reason: String)
    /// An answer worth another try: 5xx, 408, 429. `retryAfter` is the receiver's `Retry-After`;
    /// `overloaded` says the answer asks for fewer requests (429, 503) rather than reporting a
    /// failed event.
    case failed(reason: String, retryAfter: Duration?, overloaded: Bool)
    /// No answer: the connection failed or the answer did not come in time. Worth another try.
    case unanswered(reason: String)
}

extension DeliveryAttempt {
    /// The receiver's `Retry-After`, if it sent one.
    public var retryAfter: Duration? {
        if case .failed(_, let retryAfter, _) = self { return retryAfter }
        return nil
    }
}
