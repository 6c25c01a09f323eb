/// `limits.wal-bytes-per-second`: the WAL a PostgreSQL target writes, kept to a budget.
///
/// Before each batch a worker reads the target's WAL position (`pg_current_wal_lsn()`); the bytes
/// written since the last reading — by the backfill and anyone else, which is what a standby on a
/// slow link has to ship — are spent from a bucket that refills at the budget (and holds at most one
/// second of it). While the bucket is in debt the worker waits until it is paid off; so over any
/// stretch of a minute the WAL rate stays at the budget, whatever a batch's WAL was.
public actor WalBudget {
    private var rate: Double
    private var tokens: Double
    private var last: (position: Int64, at: ContinuousClock.Instant)?
    private let clock: any RunClock

    /// - Parameter bytesPerSecond: the budget (`set RUN wal-bytes-per-second=N` changes it).
    public init(bytesPerSecond: Double, clock: any RunClock) {
        self.rate = bytesPerSecond
        self.tokens = bytesPerSecond
        self.clock = clock
    }

    /// A new budget from the next batch on.
    public func setRate(_ bytesPerSecond: Double) {
        rate = bytesPerSecond
        tokens = min(tokens, rate)
    }

    /// Takes a reading of the WAL position and returns how long to wait before the next batch.
    public func wait(after position: Int64) -> Duration {
        let now = clock.now
        if let last {
            tokens += last.at.duration(to: now).inSeconds * rate
            tokens = min(tokens, rate)
            tokens -= Double(max(0, position - last.position))
        }
        last = (position, now)
        guard tokens < 0, rate > 0 else { return .zero }
        return .milliseconds(Int64((-tokens / rate * 1000).rounded(.up)))
    }
}
