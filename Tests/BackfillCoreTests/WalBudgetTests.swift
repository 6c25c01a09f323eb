@testable import BackfillCore
import BackfillTesting
import Testing

/// `limits.wal-bytes-per-second`: WAL written is spent from a bucket refilled at the budget.
struct WalBudgetTests {
    @Test("WAL beyond the budget is paid off by waiting; a new rate from `set` counts from the next reading")
    func debt() async {
        let clock = TestClock()
        let budget = WalBudget(bytesPerSecond: 1000, clock: clock)
        #expect(await budget.wait(after: 0) == .zero, "the first reading only starts the count")
        clock.advance(by: .seconds(1))
        #expect(await budget.wait(after: 3000) == .seconds(2), "3,000 bytes in a second with 1,000 in the bucket: 2 s of debt")
        clock.advance(by: .seconds(2))
        #expect(await budget.wait(after: 3000) == .zero, "paid off")
        await budget.setRate(4000)
        clock.advance(by: .seconds(1))
        #expect(await budget.wait(after: 6000) == .zero, "3,000 bytes within a second of 4,000")
    }

    @Test("the knob and the spec value are read as byte counts")
    func knob() throws {
        var knobs = RunKnobs()
        try knobs.set("wal-bytes-per-second=2097152")
        #expect(knobs.walBytesPerSecond == 2_097_152)
        #expect(throws: BackfillError.self) { try knobs.set("wal-bytes-per-second=0") }
    }
}

/// `limits.bytes-per-second`: what batches ship is spent from the same kind of bucket.
struct ByteBudgetTests {
    @Test("bytes shipped beyond the budget make the next batch wait until they are paid off")
    func debt() async {
        let clock = TestClock()
        let budget = ByteBudget(bytesPerSecond: 1000, clock: clock)
        #expect(await budget.wait() == .zero)
        await budget.spend(2500)
        #expect(await budget.wait() == .milliseconds(1500), "1,000 in the bucket, 2,500 spent")
        clock.advance(by: .milliseconds(1500))
        #expect(await budget.wait() == .zero)
    }
}
