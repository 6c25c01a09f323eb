/// What happened to the rows of a chunk or a run.
///
/// Invariant 4 of DESIGN: `read == inserted + updated + unchanged + skipped + quarantined`.
public struct Counters: Sendable, Hashable, Codable {
    public var read = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var skipped = 0
    public var quarantined = 0
    public var batches = 0
    /// Writes that failed and were retried or split.
    public var retries = 0

    public init() {}

    public init(read: Int, outcome: WriteOutcome, quarantined: Int, batches: Int = 1, retries: Int = 0) {
        self.read = read
        self.inserted = outcome.inserted
        self.updated = outcome.updated
        self.unchanged = outcome.unchanged
        self.skipped = outcome.skipped
        self.quarantined = quarantined
        self.batches = batches
        self.retries = retries
    }

    /// Rows accounted for by an outcome.
    public var accounted: Int { inserted + updated + unchanged + skipped + quarantined }

    /// Whether every row read is accounted for exactly once.
    public var isBalanced: Bool { read == accounted }

    /// Quarantined rows as a share of rows read (0 before any row).
    public var failureRate: Double { read > 0 ? Double(quarantined) / Double(read) : 0 }

    public static func + (lhs: Counters, rhs: Counters) -> Counters {
        var sum = Counters()
        sum.read = lhs.read + rhs.read
        sum.inserted = lhs.inserted + rhs.inserted
        sum.updated = lhs.updated + rhs.updated
        sum.unchanged = lhs.unchanged + rhs.unchanged
        sum.skipped = lhs.skipped + rhs.skipped
        sum.quarantined = lhs.quarantined + rhs.quarantined
        sum.batches = lhs.batches + rhs.batches
        sum.retries = lhs.retries + rhs.retries
        return sum
    }

    public static func += (lhs: inout Counters, rhs: Counters) { lhs = lhs + rhs }
}
