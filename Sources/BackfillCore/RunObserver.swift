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
    /// The process's peak resident memory so far, in bytes.
    public var peakResidentBytes: Int
    /// Quarantined rows by error type (`data`: the source row is bad; `write`: the target refused it).
    public var errorsByType: [String: Int]
    /// Why the execution ended: every chunk done, `--limit` reached, the error guard, a signal, or
    /// someone else paused, cancelled or ended the run.
    public var stop: StopReason?
}

/// The peak resident set size of this process, in bytes.
///
/// Reads `VmHWM` from `/proc/self/status` where there is one: `getrusage`'s `ru_maxrss` survives
/// `exec` and so reports the parent's peak for a process spawned with `vfork`/`posix_spawn`.
public func peakResidentBytes() -> Int {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
    {
        return kilobytes * 1024
    }
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
    return Int(usage.ru_maxrss) * 1024
}

/// An observer that does nothing.
public struct SilentObserver: RunObserver {
    public init() {}
    public func runStarted(_ run: RunRecord, estimatedRows: Int, alreadyRead: Int) {}
    public func batchCommitted(_ report: BatchReport) {}
    public func statusChanged(_ status: RunStatus, reason: String?) {}
    public func runFinished(_ summary: RunSummary) {}
}
