import Logging

/// One batch of a chunk: up to `limit` rows after `cursor`.
struct BatchRequest: Sendable {
    var chunk: ChunkRecord
    var cursor: Cursor?
    var limit: Int
    /// The chunk's generation when the batch began (its checkpoint's fence).
    var generation: Int
    /// A comparer may try to settle the whole rest of the chunk (see `ChunkProgress.mayCompareRest`).
    var mayCompareRest: Bool
    /// The batch before found every row of its window equal: the rest needs no probe.
    var restProbed = false
    /// Keys already seen in this chunk, for sources not in key order (`nil`: in key order).
    var seenKeys: SeenKeys?
    /// The chunk's event flow, for an events job delivered one request at a time (`EventPath`).
    var flow: EventFlow? = nil
    var logger: Logger
}

/// What a batch did.
struct BatchResult: Sendable {
    var delta: Counters
    var quarantine: [QuarantineRecord]
    /// Where the chunk's reading stands after the batch (`nil`: where it stood).
    var cursor: Cursor?
    var isLast: Bool
    /// The sink committed the batch's checkpoint with its rows.
    var checkpointed = false
    /// The rest of the chunk was found equal on both sides without reading it (no batch size to learn from).
    var compared = false
    /// Rows read from the source by this batch when they are not the rows its counters account
    /// for (`EventPath`: the checkpoint counts the batches settled meanwhile); `nil`: `delta.read`.
    var taken: Int? = nil
    /// Checkpoints the batch committed, each a generation of the chunk (`EventPath` commits none
    /// while no batch has settled).
    var checkpoints = 1
}

/// One way of doing a batch: comparing the chunk on both sides, a same-engine transfer, or
/// reading, shaping and writing rows.
protocol BatchPath: Sendable {
    /// Does the batch; `nil` when this path cannot do it (the next path then does).
    func process(_ request: BatchRequest) async throws -> BatchResult?
}

/// read → shape → write → checkpoint, for every batch of every worker of a run.
///
/// The paths are chosen once, when the run is wired (`BatchPipeline.init(context:)`): the chunk
/// comparison first (a same-engine `RangeComparer`, not with `--limit`), then the diff of each
/// batch by hashes (a same-engine `RangeDiffer`), then a same-engine `BatchTransfer` (not for dry
/// runs), then the row path, which always takes the batch — with a
/// `CheckpointingSink` writing the checkpoint in the rows' transaction where there is one.
struct BatchPipeline: Sendable {
    let paths: [any BatchPath]
    let sealer: CheckpointSealer
    /// The path of an events job delivered one request at a time, which needs a flow per claimed chunk.
    let events: EventPath?

    init(paths: [any BatchPath], sealer: CheckpointSealer, events: EventPath? = nil) {
        self.paths = paths
        self.sealer = sealer
        self.events = events
    }

    init(context: WorkerContext) {
        let calls = DependencyCalls(context: context)
        if let deliverer = context.sink as? any EventDeliverer, !context.configuration.dryRun {
            let sealer = CheckpointSealer(context: context)
            let events = EventPath(deliverer: deliverer, context: context, calls: calls, sealer: sealer)
            self.init(paths: [events], sealer: sealer, events: events)
            return
        }
        var paths: [any BatchPath] = []
        if let comparer = context.comparer { paths.append(ChunkComparisonPath(comparer: comparer, calls: calls)) }
        let sealer = CheckpointSealer(context: context)
        let rows = RowPath(context: context, calls: calls, sealer: sealer)
        if let differ = context.differ {
            paths.append(DiffPath(differ: differ, source: context.source, job: context.job, rows: rows, calls: calls))
        }
        // The attached transfer writes inside SQLite without shipping the rows: it cannot keep a
        // byte budget. (One set later with `backfill set` holds the row path's batches.)
        if let transfer = context.transfer, context.configuration.bytesPerSecond == nil {
            paths.append(TransferPath(transfer: transfer, calls: calls))
        }
        paths.append(rows)
        self.init(paths: paths, sealer: sealer)
    }

    /// Runs `body`, the batches of a claimed chunk, with what the chunk's batches share: for an
    /// events job delivered one request at a time, the chunk's `EventFlow` (otherwise `nil`).
    func claimed<T>(logger: Logger, _ body: (EventFlow?) async throws -> T) async throws -> T {
        guard let events else { return try await body(nil) }
        return try await events.flowing({ try await body($0) }, logger: logger)
    }

    /// Does the batch through the first path that takes it and commits its checkpoint, after
    /// the rows (invariant 1) — unless the path committed both in one transaction.
    func run(_ request: BatchRequest) async throws -> BatchResult {
        for path in paths {
            guard let result = try await path.process(request) else { continue }
            if !result.checkpointed { try await sealer.commit(result, of: request) }
            return result
        }
        throw BackfillError(.writeFailed, "no batch path took the batch of chunk \(request.chunk.index)")
    }
}
