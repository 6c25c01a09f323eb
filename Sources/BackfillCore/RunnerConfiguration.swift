import Foundation

/// Knobs of one execution of a run.
public struct RunnerConfiguration: Sendable {
    /// Concurrent workers, each processing one chunk at a time.
    public var workers: Int
    /// Rows per batch (one read, one write transaction, one checkpoint).
    public var batchSize: Int {
        get { batchSizer.size }
        set { batchSizer = BatchSizer(size: newValue, minimum: 1, maximum: newValue, target: nil) }
    }
    /// How the batch size starts and adapts.
    public var batchSizer: BatchSizer
    /// Stop after this many rows (`run --limit N`), leaving the run resumable.
    public var limitRows: Int? = nil
    /// Compare and count, write nothing.
    public var dryRun = false
    /// Rows per second across all workers.
    public var rowsPerSecond: Double? = nil
    /// Attempts for a transient failure before the run fails.
    public var retries = 8
    /// Quarantined share of recent rows above which the run pauses itself.
    public var maxErrorRate: Double? = nil
    /// When the error guard pauses the run, wait for `resume` instead of exiting (`run --wait`).
    public var waitWhenPausedByGuard = false
    /// A file whose existence pauses the run.
    public var pauseFile: String? = nil
    /// Hours and days the run may work.
    public var window: WindowSpec? = nil
    /// The health probe on the source.
    public var throttle: ThrottleSpec? = nil
    /// Where the run reads the time and waits (windows, rates, retries, polls, heartbeats).
    public var clock: any RunClock = SystemClock()
    /// How often a paused worker looks whether it was resumed.
    public var pollInterval: Duration = .milliseconds(200)
    /// Set from outside (a signal) to stop the run's workers before their next batch; each hands
    /// its chunk back, and the run stays resumable.
    public var stop: StopSignal? = nil
    /// `limits.bytes-per-second`: row bytes sent to the target per second.
    public var bytesPerSecond: Double? = nil
    /// `limits.wal-bytes-per-second` of a PostgreSQL target.
    public var walBytesPerSecond: Double? = nil
    /// Reads the target's WAL position in bytes (a PostgreSQL target).
    public var walPosition: (@Sendable () async throws -> Int64)? = nil
    /// `health.replica-lag`: how far (seconds) the target's standbys may be behind.
    public var replicaLag: Double? = nil
    /// `health.target-latency`: seconds a trivial query on the target may take beyond its baseline.
    public var targetLatency: Double? = nil
    /// Times a trivial query on the target, in seconds (a PostgreSQL target).
    public var targetProbe: (@Sendable () async throws -> Double)? = nil
    /// Reads the target's standbys (a PostgreSQL target); the run waits when it cannot.
    public var standbys: (@Sendable () async throws -> [StandbyReplay])? = nil
    /// Reads the source's own replication lag in seconds, `nil` when it is no standby (a
    /// PostgreSQL source), for `health.replica-lag`; the run waits when it cannot.
    public var sourceLag: (@Sendable () async throws -> Double?)? = nil
    /// `health.live-traffic`: whether the run slows down for other applications on the target.
    public var liveTraffic = LiveTrafficMode.auto
    /// `health.gentle-share`: the load (seconds of batch work per second) allowed meanwhile.
    public var gentleShare = HealthSpec.defaultGentleShare
    /// Counts other applications' working sessions on the target's database (a PostgreSQL
    /// target); without it, `auto` is full speed.
    public var liveSessions: (@Sendable () async throws -> Int)? = nil
    /// How often this process renews its chunk leases, in a state store that leases chunks
    /// (a third of the lease, so two heartbeats may fail before it expires).
    public var heartbeatInterval: Duration = .seconds(5)
    /// How often this process records the run's totals (`RunSample`), the points of its
    /// throughput and failure-rate charts.
    public var sampleInterval: Duration = .seconds(2)
    /// How often a process with nothing to claim looks again while chunks other processes hold
    /// are unfinished (it takes them over when their leases expire).
    public var idlePollInterval: Duration = .seconds(1)
    /// The first backoff delay; doubled per attempt, capped at 30 s, with full jitter.
    public var backoffBase: Duration = .milliseconds(100)
    /// Batches per second across all workers.
    public var batchesPerSecond: Double? = nil
    /// Consecutive transient failures that open a dependency's circuit, and how long it stays open.
    public var circuitFailures = 5
    public var circuitCoolDown: Duration = .seconds(5)

    public init(workers: Int, batchSize: Int) {
        self.workers = workers
        self.batchSizer = BatchSizer(size: batchSize, minimum: 1, maximum: batchSize, target: nil)
    }

    /// The configuration a spec asks for.
    public init(spec: JobSpec) {
        self.init(workers: spec.workers, batchSize: spec.batch.size)
        batchSizer = BatchSizer(spec: spec)
        rowsPerSecond = spec.limits.rowsPerSecond
        retries = spec.limits.retries
        maxErrorRate = spec.limits.maxErrorRate
        batchesPerSecond = spec.limits.batchesPerSecond
        backoffBase = .milliseconds(Int64(spec.limits.backoff * 1000))
        circuitFailures = spec.limits.circuitFailures
        circuitCoolDown = .milliseconds(Int64(spec.limits.circuitCoolDown * 1000))
        pauseFile = spec.limits.pauseFile.map { spec.resolve(path: $0) }
        window = spec.window
        throttle = spec.throttle
        replicaLag = spec.health.replicaLag
        targetLatency = spec.health.targetLatency
        liveTraffic = spec.health.liveTraffic
        gentleShare = spec.health.gentleShare
        walBytesPerSecond = spec.limits.walBytesPerSecond
        bytesPerSecond = spec.limits.bytesPerSecond
    }
}
