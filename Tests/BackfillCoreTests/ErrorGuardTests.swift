@testable import BackfillCore
import Testing

/// The error guard measures failures among the rows that needed a write, across workers.
@Suite struct ErrorGuardTests {
    @Test func unchangedRowsDoNotDiluteTheRate() {
        let guardian = ErrorGuard(maxRate: 0.05)
        var tripped: Double?
        // 1,000 rows a batch: 990 unchanged, 8 written, 2 refused by the target — 1 write in 5 fails.
        for _ in 0..<20 where tripped == nil {
            var batch = Counters(read: 1_000, outcome: WriteOutcome(inserted: 4, updated: 4, unchanged: 990), quarantined: 2)
            batch.batches = 1
            tripped = guardian.observe(batch, begunIn: guardian.period)
        }
        #expect(tripped.map { abs($0 - 0.2) < 0.001 } == true, "rate \(String(describing: tripped))")
    }

    @Test func equalRowsAloneNeverTrip() {
        let guardian = ErrorGuard(maxRate: 0.01)
        for _ in 0..<50 {
            #expect(guardian.observe(Counters(read: 1_000, outcome: WriteOutcome(unchanged: 1_000), quarantined: 0), begunIn: 0) == nil)
        }
    }

    @Test func sharedByWorkers() async {
        let guardian = ErrorGuard(maxRate: 0.1)
        // Two workers, each under the minimum on its own: together they reach it and trip.
        let results = await withTaskGroup(of: Double?.self) { group in
            for _ in 0..<2 {
                group.addTask { guardian.observe(Counters(read: 60, outcome: WriteOutcome(inserted: 45), quarantined: 15), begunIn: 0) }
            }
            return await group.reduce(into: [Double?]()) { $0.append($1) }
        }
        #expect(results.contains { $0 != nil })
    }

    @Test func aBatchBegunBeforeATripIsNotJudgedAgain() {
        let guardian = ErrorGuard(maxRate: 0.05)
        let failing = Counters(read: 500, outcome: WriteOutcome(inserted: 400), quarantined: 100)
        // Two workers begin their batches in the same period; the first to end trips the guard.
        let first = guardian.period, second = guardian.period
        #expect(guardian.observe(failing, begunIn: first) != nil)
        // The second ends after the trip (maybe after the operator resumed): it does not pause again.
        #expect(guardian.observe(failing, begunIn: second) == nil)
        // A batch begun after the trip is judged afresh, on its own rows.
        #expect(guardian.observe(failing, begunIn: guardian.period) != nil)
    }
}
