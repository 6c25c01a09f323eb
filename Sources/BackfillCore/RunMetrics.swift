import Metrics

/// What a running process records through swift-metrics, labelled `job` and `run`. A no-op
/// unless the process bootstrapped a metrics backend (`backfill run --serve` bootstraps
/// Prometheus); the state store's totals are exported apart from these (`StateMetrics`).
///
/// - `backfill_batch_duration_seconds` (timer → histogram): read, write and checkpoint of a batch;
/// - `backfill_process_rows_total{outcome}`, `backfill_process_batches_total`,
///   `backfill_process_retries_total`: what this process did;
/// - `backfill_current_batch_size`: rows asked for by the latest batch;
/// - `backfill_wait_seconds_total{reason}`: `rate_limit`, `paused`, `pause_file`, `window`, `throttled`, `health`;
/// - `backfill_held_seconds_total{signal}`: seconds each budget or health signal (`ControlSignal`)
///   held a worker back, summed over workers.
struct RunMetrics: Sendable {
    private let labels: [(String, String)]
    private let rows: [(KeyPath<Counters, Int> & Sendable, Counter)]
    private let batches: Counter
    private let retries: Counter
    private let batchDuration: Metrics.Timer
    private let batchSize: Gauge
    private let waits: [String: FloatingPointCounter]
    private let held: [ControlSignal: FloatingPointCounter]

    init(job: String, runID: Int64) {
        let labels = [("job", job), ("run", String(runID))]
        self.labels = labels
        let outcomes: [(String, KeyPath<Counters, Int> & Sendable)] = [
            ("inserted", \.inserted), ("updated", \.updated), ("unchanged", \.unchanged), ("skipped", \.skipped),
            ("quarantined", \.quarantined),
        ]
        rows = outcomes.map { ($0.1, Counter(label: "backfill_process_rows_total", dimensions: labels + [("outcome", $0.0)])) }
        batches = Counter(label: "backfill_process_batches_total", dimensions: labels)
        retries = Counter(label: "backfill_process_retries_total", dimensions: labels)
        batchDuration = Metrics.Timer(label: "backfill_batch_duration_seconds", dimensions: labels, preferredDisplayUnit: .seconds)
        batchSize = Gauge(label: "backfill_current_batch_size", dimensions: labels)
        waits = Dictionary(uniqueKeysWithValues: ["rate_limit", "paused", "pause_file", "window", "throttled", "health"].map {
            ($0, FloatingPointCounter(label: "backfill_wait_seconds_total", dimensions: labels + [("reason", $0)]))
        })
        held = Dictionary(uniqueKeysWithValues: ControlSignal.allCases.map {
            ($0, FloatingPointCounter(label: "backfill_held_seconds_total", dimensions: labels + [("signal", $0.metricLabel)]))
        })
    }

    /// A committed batch: its outcome, how long it took and how many rows it asked for.
    func batch(_ delta: Counters, seconds: Double, size: Int) {
        for (path, counter) in rows where delta[keyPath: path] > 0 { counter.increment(by: delta[keyPath: path]) }
        batches.increment(by: delta.batches)
        if delta.retries > 0 { retries.increment(by: delta.retries) }
        batchDuration.recordNanoseconds(Int64(seconds * 1_000_000_000))
        batchSize.record(size)
    }

    /// Seconds a worker slept for the rate limit.
    func rateLimited(_ seconds: Double) { waits["rate_limit"]?.increment(by: seconds) }

    /// Seconds `signal` held a worker back.
    func held(_ seconds: Double, by signal: ControlSignal) { held[signal]?.increment(by: seconds) }

    /// Seconds the run waited for `reason`.
    func waited(_ seconds: Double, for reason: WaitTimes.Reason) {
        let label = switch reason {
        case .paused: "paused"
        case .pauseFile: "pause_file"
        case .window: "window"
        case .throttled: "throttled"
        case .health: "health"
        }
        waits[label]?.increment(by: seconds)
    }
}
