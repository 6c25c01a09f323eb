import Foundation

/// One committed batch, as reported to observers (progress bar, logs, dry-run report).
public struct BatchReport: Sendable {
    public var runID: Int64
    public var chunkIndex: Int
    public var counters: Counters
    public var seconds: Double
    public var chunkDone: Bool
}

/// Receives progress from a running `Runner`.
public protocol RunObserver: Sendable {
    func runStarted(_ run: RunRecord, estimatedRows: Int, alreadyRead: Int)
    func batchCommitted(_ report: BatchReport)
    func statusChanged(_ status: RunStatus, reason: String?)
    func runFinished(_ summary: RunSummary)
}

/// The result of executing a run (or a dry run).
public struct RunSummary: Sendable, Codable {
    public var runID: Int64
    public var job: String
    public var status: RunStatus
    public var reason: String?
    public var dryRun: Bool
    /// Totals of the whole run, including work done before a resume.
    public var counters: Counters
    /// Rows read by this invocation.
    public var readThisInvocation: Int
    public var seconds: Double
    public var rowsPerSecond: Double
    /// Quarantined rows as a share of rows read.
    public var failureRate: Double
    public var chunks: [ChunkRecord]
    /// Whether `read == inserted + updated + unchanged + skipped + quarantined` (invariant 4).
    public var balanced: Bool
}

/// An observer that does nothing.
public struct SilentObserver: RunObserver {
    public init() {}
    public func runStarted(_ run: RunRecord, estimatedRows: Int, alreadyRead: Int) {}
    public func batchCommitted(_ report: BatchReport) {}
    public func statusChanged(_ status: RunStatus, reason: String?) {}
    public func runFinished(_ summary: RunSummary) {}
}
