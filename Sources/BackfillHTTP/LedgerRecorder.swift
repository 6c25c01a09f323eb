import BackfillCore

/// Records acknowledged events in the ledger in small groups as they come in, so that a crash
/// re-sends at most the events in flight and the last group (each with its Idempotency-Key).
actor LedgerRecorder {
    private let ledger: (any DeliveryLedger)?
    private var pending: [String] = []
    private let groupSize: Int

    init(ledger: (any DeliveryLedger)?, groupSize: Int = 64) {
        self.ledger = ledger
        self.groupSize = groupSize
    }

    func acknowledged(_ id: String) async throws {
        pending.append(id)
        if pending.count >= groupSize { try await flush() }
    }

    func flush() async throws {
        guard let ledger, !pending.isEmpty else { return }
        let ids = pending
        pending = []
        try await ledger.record(ids)
    }
}

/// Events the receiver refused in this process, by id: when the runner isolates them by splitting
/// a batch, they are not sent again.
actor RefusedEvents {
    private var reasons: [String: String] = [:]

    func remember(_ id: String, _ reason: String) { reasons[id] = reason }

    func reason(for id: String) -> String? { reasons[id] }
}

/// Requests retried by this sink and not yet reported: each write reports those made since the
/// last write that returned (a write ending in a refusal or an error reports none), so every retry
/// is counted once in the run's retries.
actor RetriedRequests {
    private var count = 0

    func add(_ retries: Int) { count += retries }

    /// The retries not reported yet, now reported.
    func take() -> Int {
        defer { count = 0 }
        return count
    }
}
