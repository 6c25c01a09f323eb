import Foundation

/// A run's totals at one moment. A running process records one every
/// `RunnerConfiguration.sampleInterval`; consecutive samples give the run's throughput, failure
/// rate and batch size over time (`report --json`, the dashboard's charts).
public struct RunSample: Sendable, Codable, Hashable {
    public var at: Date
    public var counters: Counters
    /// Working seconds so far (`RunRecord.activeSeconds`).
    public var activeSeconds: Double
    /// The latest batch size (it adapts with `batch.target-duration`).
    public var batchSize: Int?
    public var chunksDone: Int

    public init(at: Date, counters: Counters, activeSeconds: Double, batchSize: Int?, chunksDone: Int) {
        self.at = at
        self.counters = counters
        self.activeSeconds = activeSeconds
        self.batchSize = batchSize
        self.chunksDone = chunksDone
    }

    /// The sample a run record stands for now.
    public init(_ run: RunRecord, at: Date = Date()) {
        self.init(at: at, counters: run.counters, activeSeconds: run.activeSeconds, batchSize: run.batchSize, chunksDone: run.chunksDone)
    }
}

/// One step of a run's time series: what happened between two samples.
public struct SeriesPoint: Sendable, Codable, Hashable {
    /// The end of the step.
    public var at: Date
    /// Seconds since the first sample.
    public var elapsedSeconds: Double
    /// Rows read so far.
    public var read: Int
    /// Rows read per wall-clock second during the step (0 while paused or waiting).
    public var rowsPerSecond: Double
    /// Rows quarantined as a share of rows read during the step.
    public var failureRate: Double
    /// Retries during the step.
    public var retries: Int
    public var batchSize: Int?
    public var chunksDone: Int
}

/// Turns a run's samples into a time series of at most `maxPoints` steps.
public enum RunSeries {
    /// - Parameter samples: oldest first.
    public static func points(_ samples: [RunSample], maxPoints: Int = 240) -> [SeriesPoint] {
        guard let first = samples.first, samples.count > 1 else { return [] }
        // Evenly spaced samples, always the last: rates between them average the ones skipped.
        let stride = max(1, Int((Double(samples.count - 1) / Double(max(maxPoints, 1))).rounded(.up)))
        var picked = Swift.stride(from: 0, to: samples.count, by: stride).map { samples[$0] }
        if picked.last != samples.last { picked.append(samples[samples.count - 1]) }
        return zip(picked, picked.dropFirst()).map { earlier, later in
            let seconds = later.at.timeIntervalSince(earlier.at)
            let read = later.counters.read - earlier.counters.read
            let quarantined = later.counters.quarantined - earlier.counters.quarantined
            return SeriesPoint(
                at: later.at, elapsedSeconds: later.at.timeIntervalSince(first.at), read: later.counters.read,
                rowsPerSecond: seconds > 0 ? Double(max(read, 0)) / seconds : 0,
                failureRate: read > 0 ? Double(max(quarantined, 0)) / Double(read) : 0,
                retries: max(later.counters.retries - earlier.counters.retries, 0), batchSize: later.batchSize,
                chunksDone: later.chunksDone)
        }
    }
}
