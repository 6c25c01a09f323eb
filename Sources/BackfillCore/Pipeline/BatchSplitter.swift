import Logging

/// Writes rows; a batch the target refuses for a data error is split in halves until the
/// offending rows are isolated — they are returned for quarantine — and the rest is written.
struct BatchSplitter: Sendable {
    let sink: any Sink
    let calls: DependencyCalls
    let keyOrdered: Bool
    let dryRun: Bool

    /// What writing a batch did.
    struct Written: Sendable {
        var outcome = WriteOutcome()
        /// Rows the target refused, with its reason.
        var refused: [([Value], String)] = []
        var retries = 0
    }

    func write(_ rows: [[Value]], logger: Logger) async throws -> Written {
        guard !rows.isEmpty else { return Written() }
        var written = Written()
        do {
            let (sink, keyOrdered, dryRun) = (self.sink, self.keyOrdered, self.dryRun)
            written.outcome = try await calls.call(.target, "write", logger: logger, retries: &written.retries) { _ in
                try await sink.write(rows, keyOrdered: keyOrdered, dryRun: dryRun)
            }
            written.retries += written.outcome.retries
        } catch let error as BackfillError where error.kind == .data {
            if rows.count == 1 {
                written.refused = [(rows[0], error.message)]
                return written
            }
            let middle = rows.count / 2
            let first = try await write(Array(rows[..<middle]), logger: logger)
            let second = try await write(Array(rows[middle...]), logger: logger)
            written.outcome = first.outcome + second.outcome
            written.outcome.retries = 0  // counted in the halves' retries
            written.refused = first.refused + second.refused
            written.retries += first.retries + second.retries + 1
        }
        return written
    }
}
