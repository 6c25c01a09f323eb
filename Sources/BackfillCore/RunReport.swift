import Foundation

/// Everything known about one run, for `backfill report RUN --json`, the API's
/// `/api/runs/{id}/report` and the dashboard: totals, chunks with their checkpointed cursors,
/// events, a sample of the quarantine, and throughput and failure rate over time.
public struct RunReport: Sendable, Codable {
    public var run: RunRecord
    public var startedAt: Date
    public var finishedAt: Date?
    /// Whether every row read is accounted for exactly once.
    public var balanced: Bool
    /// Rows read per working second (waits not counted).
    public var rowsPerSecond: Double
    /// Quarantined rows as a share of rows read.
    public var failureRate: Double
    public var errorsByType: [String: Int]
    /// Committed checkpoints: one per batch.
    public var checkpoints: Int
    /// Batch sizes seen in the samples (they adapt with `batch.target-duration`).
    public var batchSizes: BatchSizes?
    /// Throughput, failure rate and batch size over time (at most `seriesPoints` steps).
    public var series: [SeriesPoint]
    public var chunks: [ChunkRecord]
    public var events: [RunEvent]
    public var quarantineSample: [QuarantineRecord]
    /// What the run's journal holds (`journal:`), when the run was journaled and its target could
    /// be read; `journalUnavailable` says why not when it could not.
    public var journal: JournalSummary?
    public var journalUnavailable: String?

    public struct BatchSizes: Sendable, Codable, Hashable {
        public var smallest: Int
        public var largest: Int
        public var latest: Int
    }

    /// The report of run `runID`, or `nil` when the store has no such run.
    public static func load(
        runID: Int64, from state: any StateStore, seriesPoints: Int = 240, quarantineSample: Int = 20
    ) async throws -> RunReport? {
        guard let run = try await state.run(id: runID) else { return nil }
        // Two samples per working minute for a day is 2,880; older ones only thin the series.
        let samples = try await state.samples(runID: runID, limit: 20_000)
        let sizes = samples.compactMap(\.batchSize)
        let counters = run.counters
        return RunReport(
            run: run, startedAt: run.createdAt, finishedAt: run.finishedAt, balanced: counters.isBalanced,
            rowsPerSecond: run.rowsPerWorkingSecond, failureRate: counters.failureRate,
            errorsByType: try await state.quarantineCounts(runID: runID), checkpoints: counters.batches,
            batchSizes: sizes.last.map { BatchSizes(smallest: sizes.min() ?? $0, largest: sizes.max() ?? $0, latest: $0) },
            series: RunSeries.points(samples, maxPoints: seriesPoints), chunks: try await state.chunks(runID: runID),
            events: try await state.events(runID: runID), quarantineSample: try await state.quarantine(runID: runID, limit: quarantineSample))
    }
}
