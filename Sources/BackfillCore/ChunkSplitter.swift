import Foundation
import Logging

/// Work stealing from the holder's side: when an idle worker asked for a chunk to be split, its
/// holder splits what is left after its cursor at the middle key — it goes on with the first
/// half, the second becomes a new pending chunk. Fenced like a checkpoint; a failure to split
/// only costs the split.
struct ChunkSplitter: Sendable {
    let context: WorkerContext

    /// The smallest rest of a chunk worth splitting off for an idle worker: four batches.
    static func minimumRows(_ context: WorkerContext) -> Int { max(4 * context.configuration.batchSize, 1_000) }

    enum Answer: Sendable {
        case unchanged, split(ChunkRecord), lost
    }

    func answerRequest(_ chunk: ChunkRecord, generation: Int, after cursor: Cursor?, logger: Logger) async -> Answer {
        do {
            guard try await context.state.splitRequested(chunkID: chunk.id) else { return .unchanged }
            let point = try await context.source.splitPoint(of: chunk.range, after: cursor, minimumRows: Self.minimumRows(context))
            let updated = try await context.state.split(chunkID: chunk.id, generation: generation, at: point)
            guard let point else { return .unchanged }
            let message = "chunk \(chunk.index) split for an idle worker: \(point.rowsBefore) rows stay, \(point.rowsAfter)+ rows go to a new chunk"
            logger.info("chunk split", metadata: [LogKey.reason: .string(message)])
            try? await context.state.recordEvent(runID: context.runID, kind: "split", message: message)
            return .split(updated)
        } catch let error as BackfillError where error.code == .leaseLost {
            await Self.leaseLost(chunk, error, context: context, logger: logger)
            return .lost
        } catch {
            logger.warning("could not split the chunk for an idle worker", metadata: Runner.errorMetadata(error))
            return .unchanged
        }
    }

    /// Another process took the chunk over after this one's lease expired (it stalled, or lost
    /// the state store for longer than the lease): the batch's checkpoint was refused and the
    /// chunk is theirs; this worker moves on to the next one.
    static func leaseLost(_ chunk: ChunkRecord, _ error: BackfillError, context: WorkerContext, logger: Logger) async {
        logger.warning("lease lost; leaving the chunk to its new holder", metadata: Runner.errorMetadata(error))
        try? await context.state.recordEvent(runID: context.runID, kind: "lease-lost", message: "chunk \(chunk.index): \(error.message)")
    }
}

/// The log lines and observer call of a committed batch.
enum BatchLog {
    static func report(_ delta: Counters, seconds: Double, chunk: ChunkRecord, done: Bool, context: WorkerContext, logger: Logger) {
        context.observer.batchCommitted(BatchReport(
            runID: context.runID, chunkIndex: chunk.index, counters: delta, seconds: seconds, chunkDone: done))
        if logger.logLevel <= .debug {
            logger.debug("batch committed", metadata: [
                LogKey.batchRows: .stringConvertible(delta.read), LogKey.batchSeconds: .string(String(format: "%.4f", seconds)),
                LogKey.inserted: .stringConvertible(delta.inserted), LogKey.updated: .stringConvertible(delta.updated),
                LogKey.unchanged: .stringConvertible(delta.unchanged), LogKey.skipped: .stringConvertible(delta.skipped),
                LogKey.quarantined: .stringConvertible(delta.quarantined),
            ])
        }
        if delta.quarantined > 0 {
            logger.warning("rows quarantined", metadata: [LogKey.quarantined: .stringConvertible(delta.quarantined)])
        }
        if done { logger.debug("chunk done", metadata: [LogKey.chunk: .stringConvertible(chunk.index)]) }
    }
}
