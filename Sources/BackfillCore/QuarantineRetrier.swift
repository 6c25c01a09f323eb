import Foundation
import Logging

/// What `run SPEC --retry-quarantined` did with a run's quarantined rows.
public struct RetryOutcome: Sendable, Codable {
    public var runID: Int64
    /// Quarantined rows looked at.
    public var retried = 0
    /// Written (or found equal) now; marked resolved.
    public var outcome = WriteOutcome()
    /// No longer in the source of truth; marked resolved, nothing written.
    public var goneFromSource = 0
    /// Refused again (by shaping or by the target); still quarantined with their first reason.
    public var stillFailing = 0
    /// Unparseable file records and duplicate keys, which are not retried.
    public var notRetryable = 0
}

/// Retries a run's quarantined rows once their cause is fixed: rows of a table source are read
/// again from the source of truth by key; rows of a file source are retried with the values kept in
/// quarantine. Each row is written on its own, so one still-bad row cannot hold back the others.
public struct QuarantineRetrier: Sendable {
    let job: ResolvedJob
    let source: any Source
    let sink: any Sink
    let state: any StateStore
    let logger: Logger

    public init(job: ResolvedJob, source: any Source, sink: any Sink, state: any StateStore, logger: Logger) {
        self.job = job
        self.source = source
        self.sink = sink
        self.state = state
        self.logger = logger
    }

    /// Retries every unresolved quarantined row of `runID`.
    /// - Throws: transient or permanent errors of the source, sink or state store.
    public func retry(runID: Int64) async throws -> RetryOutcome {
        var result = RetryOutcome(runID: runID)
        // Rows written now are the run's: a journaled target records them under it.
        guard let run = try await state.run(id: runID) else {
            throw BackfillError(.invalidInput, "no run \(runID) in the state store")
        }
        let sink = self.sink.forRun(run)
        let shaper = RowShaper(job: job, strict: source.valuesAreText)
        var afterID: Int64 = 0
        while true {
            let records = try await state.unresolvedQuarantine(runID: runID, afterID: afterID, limit: 500)
            guard let last = records.last else { break }
            afterID = last.id
            result.retried += records.count
            let current = try await currentRows(for: records)
            var resolved: [Int64] = []
            for record in records {
                // A later duplicate of a key must never overwrite the first record's row.
                if record.errorType == "duplicate" {
                    result.notRetryable += 1
                    continue
                }
                guard let candidate = candidate(for: record, current: current) else {
                    if record.row == nil && record.key == nil { result.notRetryable += 1 } else { result.stillFailing += 1 }
                    continue
                }
                guard let row = candidate else {
                    result.goneFromSource += 1
                    resolved.append(record.id)
                    continue
                }
                guard case .success(let typed) = shaper.shape(row) else {
                    result.stillFailing += 1
                    continue
                }
                do {
                    result.outcome = result.outcome + (try await sink.write([typed], keyOrdered: true, dryRun: false))
                    resolved.append(record.id)
                } catch let error as BackfillError where error.kind == .data {
                    result.stillFailing += 1
                }
            }
            try await state.resolveQuarantine(ids: resolved)
        }
        let message = "retried \(result.retried) quarantined rows: \(result.outcome.total) written or equal, "
            + "\(result.goneFromSource) gone from the source, \(result.stillFailing) still failing, \(result.notRetryable) not retryable"
        try await state.recordEvent(runID: runID, kind: "retried", message: message)
        logger.info("quarantine retried", metadata: [LogKey.run: .stringConvertible(runID), LogKey.reason: .string(message)])
        return result
    }

    /// Source rows by key, when the source can look them up.
    private func currentRows(for records: [QuarantineRecord]) async throws -> [[Value]: [Value]]? {
        let keys = records.compactMap(\.key).filter { !$0.contains(where: \.isNull) }
        guard !keys.isEmpty, let rows = try await source.fetch(keys: keys) else { return nil }
        return Dictionary(rows.map { (job.key(of: $0), $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The row to retry: `.some(nil)` when the key is gone from the source, `nil` when there is nothing to retry.
    private func candidate(for record: QuarantineRecord, current: [[Value]: [Value]]?) -> [Value]?? {
        if let current, let key = record.key, !key.contains(where: \.isNull) {
            return .some(current[key])
        }
        if let row = record.row, row.count == job.columns.count { return .some(row) }
        return nil
    }
}
