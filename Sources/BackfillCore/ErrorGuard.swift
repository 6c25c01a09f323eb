/// A sliding window over the last batches' quarantine rate (`limits.max-error-rate`).
struct ErrorGuard: Sendable {
    let maxRate: Double?
    private var window: [(read: Int, failed: Int)] = []
    private static let batches = 20
    private static let minimumRows = 100

    init(maxRate: Double?) { self.maxRate = maxRate }

    /// Records a batch; returns the failure rate when it is over the limit.
    mutating func observe(read: Int, failed: Int) -> Double? {
        guard let maxRate else { return nil }
        window.append((read, failed))
        if window.count > Self.batches { window.removeFirst() }
        let rows = window.reduce(0) { $0 + $1.read }
        let failures = window.reduce(0) { $0 + $1.failed }
        guard rows >= Self.minimumRows else { return nil }
        let rate = Double(failures) / Double(rows)
        return rate > maxRate ? rate : nil
    }
}
