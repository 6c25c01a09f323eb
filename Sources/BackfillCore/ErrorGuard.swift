import Foundation

/// A sliding window over the last batches' quarantine rate (`limits.max-error-rate`).
struct ErrorGuard: Sendable {
    let maxRate: Double?
    private var window: [(read: Int, failed: Int)] = []
    private static let batches = 20
    private static let minimumRows = 100

    init(maxRate: Double?) { self.maxRate = maxRate }

    /// Forgets the window (after a pause, so that a resumed run is judged afresh).
    mutating func reset() { window.removeAll() }

    /// Why the guard paused the run, and what to do.
    static func reason(rate: Double, limit: Double, runID: Int64) -> String {
        let percent = String(format: "%.1f%%", rate * 100)
        let allowed = String(format: "%.1f%%", limit * 100)
        return "error rate \(percent) over limits.max-error-rate \(allowed); inspect `backfill quarantine \(runID)`, fix the cause, then `backfill resume \(runID)`"
    }

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
