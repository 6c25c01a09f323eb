import Logging

/// The rest of a claimed chunk, when a same-engine `RangeComparer` finds it equal on both sides:
/// one step that reads nothing and counts every row unchanged. Tried once per claim, where
/// `ChunkProgress.mayCompareRest` says the bet is worth it.
struct ChunkComparisonPath: BatchPath {
    let comparer: any RangeComparer
    let calls: DependencyCalls

    func process(_ request: BatchRequest) async throws -> BatchResult? {
        guard request.mayCompareRest else { return nil }
        var retries = 0
        let (range, cursor) = (request.chunk.range, request.cursor)
        let rows = try await calls.call(.source, "chunk comparison", logger: request.logger, retries: &retries) { _ in
            try await comparer.equalRows(in: range, after: cursor, probe: !request.restProbed)
        }
        guard let rows else { return nil }
        request.logger.debug("chunk already equal on both sides; not read", metadata: [LogKey.read: .stringConvertible(rows)])
        let delta = Counters(read: rows, outcome: WriteOutcome(unchanged: rows), quarantined: 0, batches: 0, retries: retries)
        return BatchResult(delta: delta, quarantine: [], cursor: cursor, isLast: true, compared: true)
    }
}

/// A batch moved inside one engine by a `BatchTransfer`. A data error hands the batch to the row
/// path, which isolates and quarantines the offending rows.
struct TransferPath: BatchPath {
    let transfer: any BatchTransfer
    let calls: DependencyCalls

    func process(_ request: BatchRequest) async throws -> BatchResult? {
        var retries = 0
        let (range, cursor, limit) = (request.chunk.range, request.cursor, request.limit)
        do {
            let moved = try await calls.call(.target, "batch", logger: request.logger, retries: &retries) { _ in
                try await transfer.transfer(chunk: range, after: cursor, limit: limit)
            }
            return BatchResult(
                delta: Counters(read: moved.read, outcome: moved.outcome, quarantined: 0, retries: retries), quarantine: [],
                cursor: moved.cursor, isLast: moved.isLast)
        } catch let error as BackfillError where error.kind == .data {
            request.logger.warning("batch refused by the target; retrying row by row", metadata: Runner.errorMetadata(error))
            return nil
        }
    }
}
