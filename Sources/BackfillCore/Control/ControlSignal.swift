/// A budget or health signal that can hold a run back: what `status`, the dashboard and
/// `/metrics` name as *binding* and count the seconds of.
public enum ControlSignal: String, Sendable, Codable, CaseIterable, Hashable {
    /// `limits.rows-per-second` (or `backfill set RUN rows-per-second=N`).
    case rowsPerSecond = "rows-per-second"
    /// `limits.batches-per-second`.
    case batchesPerSecond = "batches-per-second"
    /// `limits.bytes-per-second`: row bytes shipped to the target.
    case bytesPerSecond = "bytes-per-second"
    /// `limits.wal-bytes-per-second`: the WAL a PostgreSQL target writes.
    case walBytesPerSecond = "wal-bytes-per-second"
    /// `health.replica-lag`: the target's standbys, or the source's own lag where it is a standby.
    case replicaLag = "replica-lag"
    /// `health.target-latency`: a trivial query on the target against its baseline.
    case targetLatency = "target-latency"
    /// `throttle:`: the probe query on the source.
    case throttle
    /// `health.live-traffic`: other applications' sessions working on the target's database.
    case liveTraffic = "live-traffic"

    /// The label in `/metrics` (`signal="rows_per_second"`).
    public var metricLabel: String { rawValue.replacingOccurrences(of: "-", with: "_") }
}
