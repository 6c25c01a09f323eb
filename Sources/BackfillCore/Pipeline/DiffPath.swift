import Logging

/// A batch settled by hashes compared inside both engines (`RangeDiffer`): only the source rows
/// whose hashes differ are read and written, through the row path's write (guards, modes,
/// quarantine, checkpoint in the rows' transaction); the window's other rows count as unchanged
/// without being shipped. A window the target mostly lacks is read by the row path.
struct DiffPath: BatchPath {
    let differ: any RangeDiffer
    let source: any Source
    let job: ResolvedJob
    let rows: RowPath
    let calls: DependencyCalls

    func process(_ request: BatchRequest) async throws -> BatchResult? {
        var retries = 0
        let (range, cursor, limit, differ, source) = (request.chunk.range, request.cursor, request.limit, self.differ, self.source)
        let diff = try await calls.call(.source, "comparing a batch", logger: request.logger, retries: &retries) { _ in
            try await differ.diff(in: range, after: cursor, limit: limit)
        }
        var compared = Counters()
        compared.sourceHashBytes = diff.sourceBytes
        compared.targetHashBytes = diff.targetBytes
        compared.retries = retries
        guard let keys = diff.differingKeys else {
            request.logger.debug(
                "batch mostly missing in the target; read directly",
                metadata: [LogKey.read: .stringConvertible(diff.sourceRows), "backfill.rows.target": .stringConvertible(diff.targetRows)])
            return try await rows.process(request, compared: compared)
        }
        var fetched: [[Value]] = []
        if !keys.isEmpty {
            fetched = try await calls.call(.source, "reading the differing rows", logger: request.logger, retries: &retries) { _ in
                try await source.fetch(keys: keys) ?? []
            }
        }
        // In key order, as a keyset batch is (writers lock rows in that order).
        fetched.sort { KeyOrder.compare(job.key(of: $0), job.key(of: $1)) < 0 }
        request.logger.debug(
            "batch compared by hashes", metadata: [LogKey.read: .stringConvertible(diff.sourceRows), "backfill.rows.shipped": .stringConvertible(fetched.count)])
        let batch = SourceBatch(rows: fetched, cursor: diff.lastKey.map { Cursor(key: $0) } ?? cursor, isLast: diff.isLast)
        // Rows found equal are unchanged; a differing row deleted from the source since is skipped.
        let settled = WriteOutcome(unchanged: diff.sourceRows - keys.count, skipped: max(0, keys.count - fetched.count))
        return try await rows.write(batch, read: diff.sourceRows, settled: settled, compared: compared, request: request, retries: retries)
    }
}
