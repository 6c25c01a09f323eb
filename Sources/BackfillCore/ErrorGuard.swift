import Foundation
import Synchronization

/// A sliding window over the run's recent failure rate (`limits.max-error-rate`), shared by all
/// of a process's workers.
///
/// The rate is rows quarantined ÷ rows that *needed a write* (inserted, updated, skipped by the
/// version guard or refused by the target) plus bad source rows. Rows already equal in the target
/// are left out: a repair that finds most rows unchanged must still pause when one write in five
/// fails. Judged once the window holds at least 100 such rows, over the last 20 batches.
///
/// A trip starts a new period: the window is forgotten (a resumed run is judged afresh) and the
/// batches that were already under way when it tripped are not judged again — their refusals
/// belong to the outage the trip already reported, and must not pause a run the operator resumed
/// meanwhile.
final class ErrorGuard: Sendable {
    let maxRate: Double?
    private let state = Mutex(Window())
    private static let batches = 20
    private static let minimumRows = 100

    private struct Window {
        var batches: [(attempted: Int, failed: Int)] = []
        var trips = 0
    }

    init(maxRate: Double?) { self.maxRate = maxRate }

    /// The current period: read before a batch, handed back to `observe(_:begunIn:)` after it.
    var period: Int { state.withLock { $0.trips } }

    /// Why the guard paused the run, and what to do.
    static func reason(rate: Double, limit: Double, runID: Int64) -> String {
        let percent = String(format: "%.1f%%", rate * 100)
        let allowed = String(format: "%.1f%%", limit * 100)
        return "error rate \(percent) over limits.max-error-rate \(allowed) (quarantined ÷ rows that needed a write); inspect `backfill quarantine \(runID)`, fix the cause, then `backfill resume \(runID)`"
    }

    /// Records the counters of a batch begun in `period`; returns the failure rate when it trips
    /// the guard (over the limit), which starts a new period. A batch begun before the latest trip
    /// is not judged.
    func observe(_ batch: Counters, begunIn period: Int) -> Double? {
        guard let maxRate else { return nil }
        let attempted = batch.inserted + batch.updated + batch.skipped + batch.quarantined
        return state.withLock { state in
            guard period == state.trips else { return nil }
            if attempted > 0 { state.batches.append((attempted, batch.quarantined)) }
            if state.batches.count > Self.batches { state.batches.removeFirst(state.batches.count - Self.batches) }
            let rows = state.batches.reduce(0) { $0 + $1.attempted }
            let failures = state.batches.reduce(0) { $0 + $1.failed }
            guard rows >= Self.minimumRows else { return nil }
            let rate = Double(failures) / Double(rows)
            guard rate > maxRate else { return nil }
            state.batches.removeAll()
            state.trips += 1
            return rate
        }
    }
}
