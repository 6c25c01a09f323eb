/// Builds and commits batch checkpoints — the one place a checkpoint is made.
///
/// A checkpoint carries the batch's cursor and counters, its quarantined rows, the time the run
/// spent since the last one and, in stores that lease chunks, the fence of the chunk's generation.
struct CheckpointSealer: Sendable {
    let runID: Int64
    let state: any StateStore
    let timeline: RunTimeline
    let fenced: Bool
    let retry: Retry

    init(context: WorkerContext) {
        self.runID = context.runID
        self.state = context.state
        self.timeline = context.timeline
        self.fenced = context.state.leasesChunks
        self.retry = Retry(attempts: context.configuration.retries, base: context.configuration.backoffBase, clock: context.clock)
    }

    /// The checkpoint of `request`'s batch. A sink that commits it with the rows fills in the
    /// write outcome (`Checkpoint.with(_:)`) inside its transaction.
    func checkpoint(
        of request: BatchRequest, delta: Counters, quarantine: [QuarantineRecord], cursor: Cursor?, isLast: Bool
    ) async -> Checkpoint {
        let time = await timeline.take()
        var checkpoint = Checkpoint(
            runID: runID, chunkID: request.chunk.id, cursor: cursor ?? request.cursor, delta: delta, chunkDone: isLast,
            quarantine: quarantine, activeSeconds: time.working)
        checkpoint.waits = time.waited
        checkpoint.batchSize = request.limit
        if fenced { checkpoint.fence = CheckpointFence(generation: request.generation) }
        return checkpoint
    }

    /// Commits the checkpoint of a batch whose rows the sink has committed (retrying transient failures).
    func commit(_ result: BatchResult, of request: BatchRequest) async throws {
        let checkpoint = await checkpoint(
            of: request, delta: result.delta, quarantine: result.quarantine, cursor: result.cursor, isLast: result.isLast)
        try await retry.run({ try await state.checkpoint(checkpoint) })
    }
}

extension Checkpoint {
    /// This checkpoint with `outcome` added to its counters: a `CheckpointingSink` learns the
    /// outcome of its write only inside the transaction that commits both. (The draft already
    /// counts the rows settled without being written, such as rows found equal by hash.)
    public func with(_ outcome: WriteOutcome) -> Checkpoint {
        var sealed = self
        sealed.delta.inserted += outcome.inserted
        sealed.delta.updated += outcome.updated
        sealed.delta.unchanged += outcome.unchanged
        sealed.delta.skipped += outcome.skipped
        return sealed
    }
}
