/// The run's one controller over the live system's signals: how many seconds of batch work per
/// second (summed over workers — its *load*) the run may do.
///
/// Additive increase, multiplicative decrease, as TCP does with a congestion window: a health
/// signal over its limit (a standby behind, the target's latency, the throttle query) halves the
/// load from what the run actually used over the last seconds — once per closing of that signal,
/// at most once a second (the halved load needs a moment to show); every healthy second adds a
/// tenth of the workers' capacity back, until the run is unlimited again. Time spent waiting (a
/// closed gate, a pause) neither grows the load nor counts as use (`hold()`). While other applications work on the target's database
/// (`health.live-traffic`) the load is capped at the gentle share; when they leave the cap lifts.
///
/// The load is kept with a `DebtBucket` of batch seconds: a worker whose batch took longer than
/// the load allows waits until the debt is paid, so batches keep their size and the pauses between
/// them carry the control (gh-ost's nice ratio, set by the signals rather than by hand).
public actor LoadController {
    /// Seconds of batch work per second; `nil`: unlimited.
    public private(set) var load: Double?
    /// What holds the load down now, for the time its waits cost.
    public private(set) var limitedBy: ControlSignal?
    /// The load allowed while other applications work on the target (`health.gentle-share`).
    public let gentleShare: Double
    private var ceiling: Double?
    private var bucket = DebtBucket(rate: nil)
    private var lastDecrease: ContinuousClock.Instant?
    private var lastGrowth: ContinuousClock.Instant
    private var usage: (since: ContinuousClock.Instant, seconds: Double, rate: Double?)
    private let clock: any RunClock

    /// Whether the run is gentle now (other applications work on the target).
    public var isGentle: Bool { ceiling != nil }

    /// Workers take turns while gentle.
    let turns = BatchTurns()

    /// The smallest load a decrease leaves: 5% of one worker's time (a 100-ms batch every 2 s).
    static let minimumLoad = 0.05

    /// The signals that closed since the run was last healthy: each lowers the load once per closing.
    private var closed: Set<ControlSignal> = []

    /// - Parameters:
    ///   - gentleShare: the load allowed while other applications work on the target.
    ///   - clock: what time passing is read from.
    public init(gentleShare: Double, clock: any RunClock) {
        self.gentleShare = gentleShare
        self.clock = clock
        lastGrowth = clock.now
        usage = (clock.now, 0, nil)
    }

    /// A batch took `seconds` of a worker's time.
    public func spend(_ seconds: Double) {
        let now = clock.now
        bucket.spend(seconds, now: now)
        usage.seconds += seconds
        let window = usage.since.duration(to: now).inSeconds
        if window >= 2 {
            usage = (now, 0, usage.seconds / window)
        }
    }

    /// How long the next batch waits for the load.
    public func wait() -> Duration {
        bucket.spend(0, now: clock.now)
        return bucket.wait
    }

    /// A health signal is over its limit: halve the load (from what the run used lately, when it
    /// used less than it was allowed) — once per closing of that signal, whichever worker sees it,
    /// and at most once a second.
    public func decrease(because signal: ControlSignal, capacity: Int) {
        let now = clock.now
        hold()
        guard closed.insert(signal).inserted else { return }
        if let lastDecrease, lastDecrease.duration(to: now) < .seconds(1) { return }
        lastDecrease = now
        let used = usage.rate ?? Double(capacity)
        set(max(Self.minimumLoad, min(load ?? Double(capacity), used) / 2), limitedBy: signal)
    }

    /// The run waits (a gate holds it, or it is paused): the time waited neither grows the load
    /// nor counts as a time the run used little.
    public func hold() {
        let now = clock.now
        lastGrowth = now
        usage = (now, 0, usage.rate)
    }

    /// Every signal is within its limits: the load grows by a tenth of `capacity` per second
    /// since the last growth, up to the cap (none when alone).
    public func healthy(capacity: Int) {
        closed.removeAll()
        grow(capacity: capacity)
    }

    /// While a worker waits off the load: once live traffic has left (and no health signal
    /// lowered the load since), the load grows back as the seconds pass, so a long wait begun while
    /// gentle shortens instead of lasting at the gentle share. Returns whether the load changed.
    public func regrow(capacity: Int) -> Bool {
        guard ceiling == nil, limitedBy == .liveTraffic, load != nil else { return false }
        let before = load
        grow(capacity: capacity)
        return load != before
    }

    private func grow(capacity: Int) {
        let now = clock.now
        let elapsed = lastGrowth.duration(to: now).inSeconds
        lastGrowth = now
        guard let load else { return }
        let grown = load + elapsed * max(0.05, Double(capacity) / 10)
        if let ceiling, grown >= ceiling {
            set(ceiling, limitedBy: .liveTraffic)
        } else if ceiling == nil, grown >= Double(capacity) {
            set(nil, limitedBy: nil)
        } else {
            set(grown, limitedBy: limitedBy)
        }
    }

    /// Whether other applications work on the target now: caps the load at the gentle share, or
    /// lifts the cap. Returns whether that changed.
    @discardableResult
    public func liveTraffic(_ present: Bool) -> Bool {
        if present {
            guard ceiling == nil else { return false }
            ceiling = gentleShare
            if load.map({ $0 > gentleShare }) ?? true { set(gentleShare, limitedBy: .liveTraffic) }
        } else {
            guard ceiling != nil else { return false }
            ceiling = nil
            // Growth goes on from here, up to unlimited once the run is healthy for a while; the
            // waits meanwhile still count for the live traffic that caused them.
            lastGrowth = clock.now
        }
        return true
    }

    private func set(_ load: Double?, limitedBy signal: ControlSignal?) {
        self.load = load
        limitedBy = load == nil ? nil : signal
        if let load { bucket.setRate(load) } else { bucket = DebtBucket(rate: nil) }
    }
}
