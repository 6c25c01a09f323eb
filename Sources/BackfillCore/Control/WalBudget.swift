/// A budget per second kept by waiting — of bytes (WAL, shipped rows) or of seconds of batch work
/// (the load): what is spent comes out of a bucket refilled at the budget (holding at most one
/// second of it); while the bucket is in debt the next batch waits until it is paid off. So over
/// any stretch of a minute the rate stays at the budget, however unevenly the batches spent it.
struct DebtBucket: Sendable {
    /// Units per second; `nil`: no budget (nothing is counted, nothing waits).
    private(set) var rate: Double?
    private var tokens: Double
    private var refilled: ContinuousClock.Instant?

    init(rate: Double?) {
        self.rate = rate
        self.tokens = rate ?? 0
    }

    /// A budget from now on (`backfill set`), also where the spec set none.
    mutating func setRate(_ rate: Double) {
        if self.rate == nil { tokens = rate }
        self.rate = rate
        tokens = min(tokens, rate)
    }

    /// Takes `amount` out, after refilling for the time since the last call.
    mutating func spend(_ amount: Double, now: ContinuousClock.Instant) {
        guard let rate else { return }
        if let refilled { tokens = min(rate, tokens + refilled.duration(to: now).inSeconds * rate) }
        refilled = now
        tokens -= amount
    }

    /// How long to wait until the debt is paid off.
    var wait: Duration {
        guard let rate, tokens < 0, rate > 0 else { return .zero }
        return .milliseconds(Int64((-tokens / rate * 1000).rounded(.up)))
    }
}

/// `limits.wal-bytes-per-second`: the WAL a PostgreSQL target writes, kept to a budget.
///
/// Before each batch a worker reads the target's WAL position (`pg_current_wal_lsn()`); the bytes
/// written since the last reading — by the backfill and anyone else, which is what a standby on a
/// slow link has to ship — are spent from a `DebtBucket`.
public actor WalBudget {
    private var bucket: DebtBucket
    private var position: Int64?
    private let clock: any RunClock

    /// - Parameter bytesPerSecond: the budget, `nil` for none yet (`set RUN wal-bytes-per-second=N` sets it).
    public init(bytesPerSecond: Double?, clock: any RunClock) {
        self.bucket = DebtBucket(rate: bytesPerSecond)
        self.clock = clock
    }

    /// A new budget from the next batch on.
    public func setRate(_ bytesPerSecond: Double) { bucket.setRate(bytesPerSecond) }

    /// Whether a budget is set.
    public var isOn: Bool { bucket.rate != nil }

    private var ignored = false

    /// `true` the first time it is asked: a budget set on a target without WAL is reported once.
    func firstIgnored() -> Bool {
        defer { ignored = true }
        return !ignored
    }

    /// Takes a reading of the WAL position and returns how long to wait before the next batch.
    public func wait(after position: Int64) -> Duration {
        bucket.spend(Double(max(0, position - (self.position ?? position))), now: clock.now)
        self.position = position
        return bucket.wait
    }
}

/// `limits.bytes-per-second`: the bytes of row values the run sends to its target (text and blobs
/// by length, numbers as 8 — the run's `shippedBytes`), kept to a budget: each batch spends what it
/// shipped, and the next waits while the `DebtBucket` is in debt.
public actor ByteBudget {
    private var bucket: DebtBucket
    private let clock: any RunClock

    /// - Parameter bytesPerSecond: the budget, `nil` for none yet (`set RUN bytes-per-second=N` sets it).
    public init(bytesPerSecond: Double?, clock: any RunClock) {
        self.bucket = DebtBucket(rate: bytesPerSecond)
        self.clock = clock
    }

    public func setRate(_ bytesPerSecond: Double) { bucket.setRate(bytesPerSecond) }

    /// A batch shipped `bytes`.
    public func spend(_ bytes: Int) { bucket.spend(Double(bytes), now: clock.now) }

    /// How long the next batch waits.
    public func wait() -> Duration {
        bucket.spend(0, now: clock.now)
        return bucket.wait
    }
}
