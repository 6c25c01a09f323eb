import BackfillCore

/// How a webhook answered, over one process's deliveries: answers by HTTP status (and requests
/// that got none), and how many retries each settled event needed. `backfill run` records it in
/// the run's events, where `report` shows it.
public actor DeliveryStats {
    /// What was counted.
    public struct Counts: Sendable, Hashable {
        /// Answers by status; 0 counts requests without an answer (timeouts, refused connections).
        public var answers: [Int: Int] = [:]
        /// Settled events by the retries they needed.
        public var retries: [Int: Int] = [:]
    }

    private var counts = Counts()

    public init() {}

    func answered(_ status: Int) { counts.answers[status, default: 0] += 1 }

    func settled(afterRetries count: Int) { counts.retries[count, default: 0] += 1 }

    /// Everything counted so far.
    public var total: Counts { counts }
}
