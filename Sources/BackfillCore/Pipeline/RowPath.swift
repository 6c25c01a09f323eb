import Logging

/// The path every batch can take: read rows from the source, shape them for the target, write
/// them — splitting a refused batch to isolate its bad rows — and, with a `CheckpointingSink`,
/// commit the checkpoint in the rows' transaction.
struct RowPath: BatchPath {
    let source: any Source
    let shaper: BatchShaper
    let splitter: BatchSplitter
    let sealed: (any CheckpointingSink)?
    let sealer: CheckpointSealer
    let calls: DependencyCalls

    init(context: WorkerContext, calls: DependencyCalls, sealer: CheckpointSealer) {
        self.source = context.source
        self.shaper = BatchShaper(context: context)
        self.splitter = BatchSplitter(
            sink: context.sink, calls: calls, keyOrdered: context.source.isKeyOrdered, dryRun: context.configuration.dryRun)
        self.sealed = context.checkpointing
        self.sealer = sealer
        self.calls = calls
    }

    func process(_ request: BatchRequest) async throws -> BatchResult? {
        try await process(request, compared: Counters())
    }

    /// `process`, after a comparison inside the engines whose bytes and retries `compared` counts.
    func process(_ request: BatchRequest, compared: Counters) async throws -> BatchResult {
        var retries = compared.retries
        let batch = try await calls.readBatch(from: source, for: request, retries: &retries)
        return try await write(batch, read: batch.recordCount, settled: WriteOutcome(), compared: compared, request: request, retries: retries)
    }

    /// Shapes and writes `batch`, `read` rows of the source of which `settled` were accounted for
    /// without being shipped (`DiffPath`, whose comparison's bytes `compared` counts), and returns
    /// the batch's result.
    func write(_ batch: SourceBatch, read: Int, settled: WriteOutcome, compared: Counters, request: BatchRequest, retries: Int) async throws
        -> BatchResult
    {
        let shaped = shaper.shape(batch, chunk: request.chunk, seenKeys: request.seenKeys)
        if let sealed, !shaped.rows.isEmpty,
            let result = try await writeSealed(
                shaped, batch: batch, read: read, settled: settled, compared: compared, through: sealed, request: request, retries: retries)
        {
            return result
        }
        let written = try await splitter.write(shaped.rows, logger: request.logger)
        let quarantine = shaped.quarantine + written.refused.map { row, reason in
            shaper.record(chunk: request.chunk, key: shaper.job.key(of: row), line: nil, type: "write", reason: reason, row: row, raw: nil)
        }
        var delta = Counters(read: read, outcome: written.outcome + settled, quarantined: quarantine.count, retries: written.retries + retries)
        delta.ship(batch.rows, compared: compared)
        return BatchResult(delta: delta, quarantine: quarantine, cursor: batch.cursor, isLast: batch.isLast)
    }

    /// Writes the rows and the checkpoint in one transaction; `nil` when the target refused a row
    /// (the batch is then split and checkpointed after it, as without a checkpointing sink).
    private func writeSealed(
        _ shaped: BatchShaper.Shaped, batch: SourceBatch, read: Int, settled: WriteOutcome, compared: Counters, through sink: any CheckpointingSink,
        request: BatchRequest, retries before: Int
    ) async throws -> BatchResult? {
        let (rows, quarantine, keyOrdered) = (shaped.rows, shaped.quarantine, source.isKeyOrdered)
        var retries = before
        var delta = Counters(read: read, outcome: settled, quarantined: quarantine.count)
        delta.ship(batch.rows, compared: compared)
        let draft = await sealer.checkpoint(
            of: request, delta: delta,
            quarantine: quarantine, cursor: batch.cursor, isLast: batch.isLast)
        do {
            let committed = try await calls.call(.target, "write", logger: request.logger, retries: &retries) { retriesSoFar in
                // The retries so far travel with the checkpoint this attempt commits.
                var attempt = draft
                attempt.delta.retries = before + retriesSoFar
                return try await sink.write(rows, keyOrdered: keyOrdered, checkpoint: attempt)
            }
            guard let committed else {
                // An earlier attempt committed rows and checkpoint together; its reply was lost. Its
                // counters stand; the time spent since goes with the next checkpoint.
                request.logger.info("batch had already been committed by an earlier attempt", metadata: [LogKey.retries: .stringConvertible(retries)])
                let nothing = Counters(read: 0, outcome: WriteOutcome(), quarantined: 0, batches: 0, retries: retries)
                return BatchResult(delta: nothing, quarantine: [], cursor: batch.cursor, isLast: batch.isLast, checkpointed: true)
            }
            return BatchResult(delta: committed.delta, quarantine: quarantine, cursor: batch.cursor, isLast: batch.isLast, checkpointed: true)
        } catch let error as BackfillError where error.kind == .data {
            request.logger.debug("batch refused by the target; isolating the rows", metadata: Runner.errorMetadata(error))
            // The draft's time goes with the checkpoint the split batch commits instead.
            await sealer.timeline.giveBack(working: draft.activeSeconds, waited: draft.waits)
            return nil
        }
    }
}
