/// A token bucket on rows per second shared by all workers of a run.
public actor RateLimiter {
    private var rate: Double
    private var burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant
    private let clock: any RunClock

    /// - Parameters:
    ///   - rowsPerSecond: the sustained rate.
    ///   - burst: the largest amount taken at once without waiting (at least one batch).
    ///   - clock: what time passing is read from.
    public init(rowsPerSecond: Double, burst: Double, clock: any RunClock = SystemClock()) {
        self.clock = clock
        self.rate = rowsPerSecond
        self.burst = max(burst, 1)
        self.tokens = 0
        self.last = clock.now
    }

    /// Changes the rate (`backfill set RUN rows-per-second=…`); `0` lifts the limit.
    public func setRate(_ rowsPerSecond: Double, burst: Double) {
        guard rowsPerSecond != rate else { return }
        rate = rowsPerSecond
        self.burst = max(burst, 1)
        tokens = min(tokens, self.burst)
    }

    /// Gives back tokens reserved for rows that were not there (a chunk's short last batch), so
    /// that the achieved rate stays at the limit.
    public func refund(_ rows: Int) {
        guard rate > 0, rows > 0 else { return }
        tokens = min(burst, tokens + Double(rows))
    }

    /// Takes `rows` tokens, returning how long the caller must wait before using them.
    public func reserve(_ rows: Int) -> Duration {
        guard rate > 0 else { return .zero }
        let now = clock.now
        let elapsed = last.duration(to: now)
        last = now
        let seconds = elapsed.inSeconds
        tokens = min(burst, tokens + seconds * rate)
        tokens -= Double(rows)
        guard tokens < 0 else { return .zero }
        return .milliseconds(Int64((-tokens / rate * 1000).rounded(.up)))
    }
}

/// The `--limit N` budget: the first N rows across all workers, then the run stops.
public actor RowBudget {
    private var remaining: Int?

    public init(limit: Int?) { self.remaining = limit }

    /// Grants up to `wanted` rows; 0 once the budget is spent.
    public func take(_ wanted: Int) -> Int {
        guard let left = remaining else { return wanted }
        let granted = min(left, wanted)
        remaining = left - granted
        return granted
    }

    /// Gives back rows that were granted but not read (the chunk ended first).
    public func giveBack(_ rows: Int) {
        if let left = remaining { remaining = left + rows }
    }

    public var isExhausted: Bool { remaining == 0 }
}
