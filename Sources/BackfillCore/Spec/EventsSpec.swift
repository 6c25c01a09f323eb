/// `events:` — the source holds events to replay to a consumer, not rows to copy.
public struct EventsSpec: Sendable, Codable, Hashable {
    /// The column with each event's unique id: its `Idempotency-Key` and its entry in the ledger
    /// of delivered events.
    public var id: String
    /// Events with the same value in this column are delivered one at a time, in order; events of
    /// different values in parallel (`nil`: every event is its own key).
    public var orderKey: String?
    /// The column events are ordered by (with `id` breaking ties); the source is read in this order.
    public var orderBy: String?

    public init(id: String, orderKey: String? = nil, orderBy: String? = nil) {
        self.id = id
        self.orderKey = orderKey
        self.orderBy = orderBy
    }

    /// The key the source is read by when the spec names none: `[order-by, id]`, or `[id]`.
    public var readKey: [String] {
        guard let orderBy, orderBy.caseInsensitiveCompare(id) != .orderedSame else { return [id] }
        return [orderBy, id]
    }
}

/// The options of a `webhook:` target.
public struct WebhookSpec: Sendable, Codable, Hashable {
    /// The HMAC-SHA256 key of `Backfill-Signature` (usually `${SECRET}`); never printed or stored.
    public var secret: String?
    /// Extra request headers, sent with every event.
    public var headers: [String: String] = [:]
    /// How long one delivery may take before it is retried, in seconds.
    public var timeout: Double = 10
    /// Requests in flight at most.
    public var concurrency: Int = 16

    public init(secret: String? = nil, headers: [String: String] = [:], timeout: Double = 10, concurrency: Int = 16) {
        self.secret = secret
        self.headers = headers
        self.timeout = timeout
        self.concurrency = concurrency
    }
}
