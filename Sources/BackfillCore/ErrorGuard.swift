import Foundation
import Synchronization

/// A sliding window over the run's recent failure rate (`limits.max-error-rate`), shared by all
/// of a process's workers.
///
/// The rate is rows quarantined ÷ rows that *needed a write* (inserted, updated, skipped by the
/// version guard or refused by the target) plus bad source rows. Rows already equal in the target
/// are left out: a repair that finds most rows unchanged must still pause when one write in five
/// fails. Judged once the window holds at least 100 such rows, over the last 20 batches.
final class ErrorGuard: Sendable {
    let maxRate: Double?
    private let window = Mutex<[(attempted: Int, failed: Int)]>([])
    private static let batches = 20
    private static let minimumRows = 100

    init(maxRate: Double?) { self.maxRate = maxRate }

    /// Forgets the window (after a pause, so that a resumed run is judged afresh).
    func reset() { window.withLock { $0.removeAll() } }

    /// Why the guard paused the run, and what to do.
    static func reason(rate: Double, limit: Double, runID: Int64) -> String {
        let percent = String(format: "%.1f%%", rate * 100)
        let allowed = String(format: "%.1f%%", limit * 100)
        return "error rate \(percent) over limits.max-error-rate \(allowed) (quarantined ÷ rows that needed a write); inspect `backfill quarantine \(runID)`, fix the cause, then `backfill resume \(runID)`"
    }

    /// Records a batch's counters; returns the failure rate when it is over the limit.
    func observe(_ batch: Counters) -> Double? {
        guard let maxRate else { return nil }
        let attempted = batch.inserted + batch.updated + batch.skipped + batch.quarantined
        return window.withLock { window in
            if attempted > 0 { window.append((attempted, batch.quarantined)) }
            if window.count > Self.batches { window.removeFirst(window.count - Self.batches) }
            let rows = window.reduce(0) { $0 + $1.attempted }
            let failures = window.reduce(0) { $0 + $1.failed }
            guard rows >= Self.minimumRows else { return nil }
            let rate = Double(failures) / Double(rows)
            return rate > maxRate ? rate : nil
        }
    }
}
