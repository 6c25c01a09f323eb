import Foundation
import Logging

/// One worker: claims chunks until none is left and runs the batch loop on each.
struct ChunkWorker: Sendable {
    let context: WorkerContext
    let number: Int

    private var retry: Retry {
        Retry(attempts: context.configuration.retries, base: context.configuration.backoffBase)
    }

    /// Retries behind the circuit breaker of a dependency.
    private func retry(through breaker: CircuitBreaker) -> Retry {
        Retry(attempts: context.configuration.retries, base: context.configuration.backoffBase, breaker: breaker)
    }

    /// Logs and records that a dependency's circuit opened.
    private func circuitOpened(_ breaker: CircuitBreaker, _ error: BackfillError, logger: Logger) async {
        let message = "circuit open for the \(breaker.dependency) after \(context.configuration.circuitFailures) failures in a row; "
            + "no calls for \(context.configuration.circuitCoolDown), then one probe"
        var metadata = Runner.errorMetadata(error)
        metadata[LogKey.reason] = .string(message)
        logger.warning("circuit open", metadata: metadata)
        try? await context.state.recordEvent(runID: context.runID, kind: "circuit-open", message: message)
    }

    func run() async throws -> Runner.WorkerExit {
        var sizer = context.configuration.batchSizer
        var waiting = false
        while true {
            if let chunk = try await context.state.claimChunk(runID: context.runID) {
                waiting = false
                if let exit = try await process(chunk, sizer: &sizer) { return exit }
                continue
            }
            guard context.state.leasesChunks else { return .noMoreChunks }
            // Nothing to claim while other processes hold chunks: ask the holder of the biggest
            // rest to split it (work stealing), and look again — until every chunk is done. A
            // holder that dies meanwhile loses its chunks to this loop when their leases expire.
            if let stop = try await waitWhilePaused(logger: context.logger, sizer: &sizer) { return stop }
            if await context.slots.shouldRetire() { return .retired }
            let chunks = try await context.state.chunks(runID: context.runID)
            if chunks.contains(where: { $0.status == .pending }) { continue }
            let held = chunks.filter { $0.status == .running }.count
            guard held > 0 else { return .noMoreChunks }
            if !waiting {
                context.logger.info("waiting for chunks other workers hold", metadata: [LogKey.chunk: .stringConvertible(held), LogKey.worker: .stringConvertible(number)])
                waiting = true
            }
            _ = try await context.state.requestSplit(runID: context.runID, minimumRows: minimumSplitRows)
            try await Task.sleep(for: context.configuration.idlePollInterval)
        }
    }

    /// The smallest rest of a chunk worth splitting off for an idle worker: four batches.
    private var minimumSplitRows: Int { max(4 * context.configuration.batchSize, 1_000) }

    /// Runs the batch loop on one chunk; `nil` when the chunk is done.
    private func process(_ claimed: ChunkRecord, sizer: inout BatchSizer) async throws -> Runner.WorkerExit? {
        var chunk = claimed
        var lastSplitCheck = ContinuousClock.now
        var logger = context.logger
        logger[metadataKey: LogKey.chunk] = .stringConvertible(chunk.index)
        logger[metadataKey: LogKey.worker] = .stringConvertible(number)
        let shaper = RowShaper(job: context.job, strict: context.source.valuesAreText)
        var duplicates = context.source.isKeyOrdered ? nil : DuplicateKeyFilter()
        var cursor = chunk.cursor
        var compareFirst = context.comparer != nil
        var generation = chunk.generation
        let fenced = context.state.leasesChunks
        while true {
            if let stop = try await waitWhilePaused(logger: logger, sizer: &sizer) {
                try await context.state.releaseChunk(id: chunk.id)
                return stop
            }
            if await context.slots.shouldRetire() {
                try await context.state.releaseChunk(id: chunk.id)
                logger.info("worker retired: fewer workers asked for")
                return .retired
            }
            let wanted = await context.budget.take(sizer.size)
            if wanted == 0 {
                try await context.state.releaseChunk(id: chunk.id)
                return .limitReached
            }
            let wait = max(await context.limiter.reserve(wanted), await context.batchLimiter.reserve(1))
            if wait > .zero {
                try await Task.sleep(for: wait)
                context.metrics.rateLimited(wait.inSeconds)
            }
            let started = ContinuousClock.now
            await context.timeline.beginBatch()
            let seal = CheckpointSeal(chunk: chunk, from: cursor, wanted: wanted, generation: generation, fenced: fenced)
            let batch: BatchResult
            do {
                if compareFirst, let equal = try await compareChunk(chunk, after: cursor, logger: logger) {
                    batch = equal
                } else {
                    batch = try await processBatch(
                        chunk: chunk, after: cursor, limit: wanted, shaper: shaper, duplicates: &duplicates, seal: seal, logger: logger)
                }
            } catch let error as BackfillError where error.code == .leaseLost {
                await context.timeline.endBatch()
                await leaseLost(chunk, error, logger: logger)
                return nil
            }
            let compared = compareFirst && batch.isLast && batch.delta.batches == 0
            compareFirst = false
            if batch.delta.read < wanted {
                await context.budget.giveBack(wanted - batch.delta.read)
                await context.limiter.refund(wanted - batch.delta.read)
            }
            let delta = batch.delta
            let seconds = started.duration(to: .now).inSeconds
            do {
                if !batch.checkpointed {
                    let checkpoint = await seal.checkpoint(batch.delta, quarantine: batch.quarantine, cursor: batch.cursor, isLast: batch.isLast, context: context)
                    try await retry.run({ try await context.state.checkpoint(checkpoint) })
                }
                await context.timeline.endBatch()
            } catch let error as BackfillError where error.code == .leaseLost {
                await context.timeline.endBatch()
                await leaseLost(chunk, error, logger: logger)
                return nil
            } catch {
                await context.timeline.endBatch()
                throw error
            }
            generation += 1
            if !compared { sizer.observe(rows: delta.read, seconds: seconds) }
            context.metrics.batch(delta, seconds: seconds, size: wanted)
            cursor = batch.cursor ?? cursor
            report(delta, seconds: seconds, chunk: chunk, done: batch.isLast, cursor: cursor, logger: logger)
            if fenced, !batch.isLast, lastSplitCheck.duration(to: .now) >= context.configuration.idlePollInterval {
                lastSplitCheck = .now
                switch await answerSplitRequest(chunk, generation: generation, after: cursor, logger: logger) {
                case .unchanged: break
                case .split(let smaller):
                    chunk = smaller
                    generation = smaller.generation
                case .lost: return nil
                }
            }
            if let rate = context.errorGuard.observe(delta) {
                let reason = ErrorGuard.reason(rate: rate, limit: context.configuration.maxErrorRate ?? 0, runID: context.runID)
                // Compare-and-set: a cancel that arrived during the batch stands.
                if try await context.state.transition(runID: context.runID, from: [.running, .planned], to: .paused, reason: reason) {
                    try await context.state.recordEvent(runID: context.runID, kind: "paused", message: reason)
                    logger.warning("run paused by the error guard", metadata: [LogKey.reason: .string(reason)])
                }
                context.errorGuard.reset()
                if context.configuration.waitWhenPausedByGuard {
                    // The pause is honoured before the next batch, of this chunk or the next one.
                    if batch.isLast { return nil }
                    continue
                }
                await context.stop.set()
                if !batch.isLast { try await context.state.releaseChunk(id: chunk.id) }
                return .errorRateExceeded(rate)
            }
            if batch.isLast { return nil }
        }
    }

    private enum SplitAnswer {
        case unchanged, split(ChunkRecord), lost
    }

    /// When an idle worker asked for this chunk to be split, splits what is left after `cursor` at
    /// its middle key: this worker goes on with the first half, the second becomes a new pending
    /// chunk. The split is fenced like a checkpoint; a failure to split only costs the split.
    private func answerSplitRequest(_ chunk: ChunkRecord, generation: Int, after cursor: Cursor?, logger: Logger) async -> SplitAnswer {
        do {
            guard try await context.state.splitRequested(chunkID: chunk.id) else { return .unchanged }
            let point = try await context.source.splitPoint(of: chunk.range, after: cursor, minimumRows: minimumSplitRows)
            let updated = try await context.state.split(chunkID: chunk.id, generation: generation, at: point)
            guard let point else { return .unchanged }
            let message = "chunk \(chunk.index) split for an idle worker: \(point.rowsBefore) rows stay, \(point.rowsAfter)+ rows go to a new chunk"
            logger.info("chunk split", metadata: [LogKey.reason: .string(message)])
            try? await context.state.recordEvent(runID: context.runID, kind: "split", message: message)
            return .split(updated)
        } catch let error as BackfillError where error.code == .leaseLost {
            await leaseLost(chunk, error, logger: logger)
            return .lost
        } catch {
            logger.warning("could not split the chunk for an idle worker", metadata: Runner.errorMetadata(error))
            return .unchanged
        }
    }

    /// Another process took the chunk over after this one's lease expired (it stalled, or lost
    /// the state store for longer than the lease): the batch's checkpoint was refused and the
    /// chunk is theirs; this worker moves on to the next one.
    private func leaseLost(_ chunk: ChunkRecord, _ error: BackfillError, logger: Logger) async {
        logger.warning("lease lost; leaving the chunk to its new holder", metadata: Runner.errorMetadata(error))
        try? await context.state.recordEvent(runID: context.runID, kind: "lease-lost", message: "chunk \(chunk.index): \(error.message)")
    }

    /// The rest of the chunk as one unchanged step when the comparer finds both sides equal there.
    private func compareChunk(_ chunk: ChunkRecord, after cursor: Cursor?, logger: Logger) async throws -> BatchResult? {
        guard let comparer = context.comparer else { return nil }
        let range = chunk.range
        var retries = 0
        let rows = try await retry(through: context.sourceBreaker).run(
            { try await comparer.equalRows(in: range, after: cursor) },
            onRetry: { error, attempt in
                retries += 1
                logger.warning("chunk comparison failed; retrying", metadata: Runner.errorMetadata(error).merging([LogKey.attempt: .stringConvertible(attempt)]) { $1 })
            },
            onOpen: { await circuitOpened(context.sourceBreaker, $0, logger: logger) })
        guard let rows else { return nil }
        logger.debug("chunk already equal on both sides; not read", metadata: [LogKey.read: .stringConvertible(rows)])
        let delta = Counters(read: rows, outcome: WriteOutcome(unchanged: rows), quarantined: 0, batches: 0, retries: retries)
        return BatchResult(delta: delta, quarantine: [], cursor: cursor, isLast: true)
    }

    /// What a batch's checkpoint needs besides its result: which chunk, from where, under which fence.
    private struct CheckpointSeal: Sendable {
        let chunk: ChunkRecord
        let from: Cursor?
        let wanted: Int
        let generation: Int
        let fenced: Bool

        /// The checkpoint of a batch, carrying the time the run spent since the last one.
        func checkpoint(_ delta: Counters, quarantine: [QuarantineRecord], cursor: Cursor?, isLast: Bool, context: WorkerContext) async -> Checkpoint {
            let time = await context.timeline.take()
            var checkpoint = Checkpoint(
                runID: context.runID, chunkID: chunk.id, cursor: cursor ?? from, delta: delta,
                chunkDone: isLast, quarantine: quarantine, activeSeconds: time.working)
            checkpoint.waits = time.waited
            checkpoint.batchSize = wanted
            if fenced { checkpoint.fence = CheckpointFence(generation: generation) }
            return checkpoint
        }
    }

    /// Applies knobs set while running: a new rate for the shared limiter, a fixed batch size.
    private func apply(_ knobs: RunKnobs, sizer: inout BatchSizer) async {
        if let rate = knobs.rowsPerSecond {
            await context.limiter.setRate(rate, burst: max(rate / 10, Double(sizer.size)))
        }
        if let size = knobs.batchSize, size != sizer.size || sizer.target != nil {
            sizer = BatchSizer(size: size, minimum: 1, maximum: size, target: nil)
        }
    }

    private struct BatchResult {
        var delta: Counters
        var quarantine: [QuarantineRecord]
        var cursor: Cursor?
        var isLast: Bool
        /// The sink committed the batch's checkpoint with its rows.
        var checkpointed = false
    }

    /// One batch: through the same-engine transfer when there is one, otherwise read, shape and
    /// write row by row. A transfer that hits a data error is redone on the row path, which
    /// isolates and quarantines the offending rows.
    private func processBatch(
        chunk: ChunkRecord, after cursor: Cursor?, limit: Int, shaper: RowShaper, duplicates: inout DuplicateKeyFilter?,
        seal: CheckpointSeal, logger: Logger
    ) async throws -> BatchResult {
        var retries = 0
        let countRetry = { (error: BackfillError, attempt: Int) in
            retries += 1
            logger.warning("batch failed; retrying", metadata: Runner.errorMetadata(error).merging([LogKey.attempt: .stringConvertible(attempt)]) { $1 })
        }
        if let transfer = context.transfer {
            do {
                let range = chunk.range
                let moved = try await retry(through: context.targetBreaker).run(
                    { try await transfer.transfer(chunk: range, after: cursor, limit: limit) }, onRetry: countRetry,
                    onOpen: { await circuitOpened(context.targetBreaker, $0, logger: logger) })
                return BatchResult(
                    delta: Counters(read: moved.read, outcome: moved.outcome, quarantined: 0, retries: retries), quarantine: [],
                    cursor: moved.cursor, isLast: moved.isLast)
            } catch let error as BackfillError where error.kind == .data {
                logger.warning("batch refused by the target; retrying row by row", metadata: Runner.errorMetadata(error))
            }
        }
        let range = chunk.range
        let batch = try await retry(through: context.sourceBreaker).run(
            { try await context.source.read(chunk: range, after: cursor, limit: limit) }, onRetry: countRetry,
            onOpen: { await circuitOpened(context.sourceBreaker, $0, logger: logger) })
        let shaped = shape(batch, shaper: shaper, duplicates: &duplicates, chunk: chunk)
        if let sealed = try await writeSealed(shaped, batch: batch, seal: seal, retriedBefore: retries, logger: logger) { return sealed }
        let written = try await writeSplitting(shaped.rows, logger: logger)
        let quarantine = shaped.quarantine + written.quarantined.map { row, reason in
            quarantineRecord(chunk: chunk, key: context.job.key(of: row), line: nil, type: "write", reason: reason, row: row, raw: nil)
        }
        let delta = Counters(
            read: batch.recordCount, outcome: written.outcome, quarantined: quarantine.count, retries: written.retries + retries)
        return BatchResult(delta: delta, quarantine: quarantine, cursor: batch.cursor, isLast: batch.isLast)
    }

    /// Blocks while the run is paused or a gate (pause file, window, throttle) holds it back;
    /// returns `.cancelled` when it was cancelled.
    private func waitWhilePaused(logger: Logger, sizer: inout BatchSizer) async throws -> Runner.WorkerExit? {
        await context.timeline.beginWait()
        do {
            let exit = try await waitLoop(logger: logger, sizer: &sizer)
            await context.timeline.endWait()
            return exit
        } catch {
            await context.timeline.endWait()
            throw error
        }
    }

    private func waitLoop(logger: Logger, sizer: inout BatchSizer) async throws -> Runner.WorkerExit? {
        var announced = false
        var waitingFor: String?
        while true {
            if await context.stop.isSet { return .cancelled }
            guard let run = try await context.state.run(id: context.runID) else { return .cancelled }
            await apply(run.knobs, sizer: &sizer)
            if let workers = run.knobs.workers { await context.slots.allow(workers) }
            switch run.status {
            case .running, .planned:
                if let (reason, kind) = try await context.gates.reasonToWait() {
                    await context.timeline.waiting(because: kind)
                    if reason != waitingFor {
                        // One controller: a source that asks for less load also gets smaller batches.
                        if reason.hasPrefix("throttled") { sizer.backOff() }
                        logger.info("run waiting", metadata: [LogKey.reason: .string(reason)])
                        try await context.state.setWaitingReason(runID: context.runID, reason)
                        try await context.state.recordEvent(runID: context.runID, kind: "waiting", message: reason)
                        waitingFor = reason
                    }
                    try await Task.sleep(for: context.gates.retryDelay(for: reason))
                    continue
                }
                await context.timeline.waiting(because: nil)
                if waitingFor != nil {
                    logger.info("run going on")
                    try await context.state.setWaitingReason(runID: context.runID, nil)
                }
                if announced {
                    logger.info("run resumed")
                    context.observer.statusChanged(.running, reason: nil)
                }
                return nil
            case .paused:
                await context.timeline.waiting(because: .paused)
                if !announced {
                    logger.info("run paused; waiting for resume", metadata: [LogKey.reason: .string(run.reason ?? "paused")])
                    context.observer.statusChanged(.paused, reason: run.reason)
                    announced = true
                }
                try await Task.sleep(for: context.configuration.pollInterval)
            case .cancelled, .failed, .completed:
                return .cancelled
            }
        }
    }

    private struct Shaped {
        var rows: [[Value]] = []
        var quarantine: [QuarantineRecord] = []
    }

    private func shape(_ batch: SourceBatch, shaper: RowShaper, duplicates: inout DuplicateKeyFilter?, chunk: ChunkRecord) -> Shaped {
        var shaped = Shaped()
        shaped.rows.reserveCapacity(batch.rows.count)
        for rejected in batch.rejected {
            shaped.quarantine.append(quarantineRecord(
                chunk: chunk, key: rejected.key, line: rejected.line, type: "data", reason: rejected.reason, row: nil, raw: rejected.raw))
        }
        for (index, row) in batch.rows.enumerated() {
            let line = batch.lines?[index]
            switch shaper.shape(row) {
            case .success(let typed):
                if duplicates != nil, !duplicates!.insert(context.job.key(of: typed)) {
                    shaped.quarantine.append(quarantineRecord(
                        chunk: chunk, key: context.job.key(of: typed), line: line, type: "duplicate",
                        reason: "duplicate key: an earlier record has the same key", row: row, raw: nil))
                } else {
                    shaped.rows.append(typed)
                }
            case .failure(let rejection):
                shaped.quarantine.append(quarantineRecord(
                    chunk: chunk, key: context.job.key(of: row), line: line, type: "data", reason: rejection.reason, row: row, raw: nil))
            }
        }
        return shaped
    }

    private struct Written {
        var outcome = WriteOutcome()
        var quarantined: [([Value], String)] = []
        var retries = 0
    }

    /// Writes the batch and its checkpoint in one transaction when the sink can; `nil` when it
    /// cannot, or when the target refused a row (the batch is then split on the usual path, and
    /// checkpointed after it).
    private func writeSealed(
        _ shaped: Shaped, batch: SourceBatch, seal: CheckpointSeal, retriedBefore: Int, logger: Logger
    ) async throws -> BatchResult? {
        guard let sink = context.checkpointing, !shaped.rows.isEmpty else { return nil }
        let (rows, quarantine, read) = (shaped.rows, shaped.quarantine, batch.recordCount)
        let (cursor, isLast, keyOrdered) = (batch.cursor, batch.isLast, context.source.isKeyOrdered)
        var retries = retriedBefore
        do {
            let committed = try await retry(through: context.targetBreaker).run(
                { [context] in
                    // The retries so far travel with the checkpoint committed by this attempt.
                    let retriesSoFar = retries
                    return try await sink.write(rows, keyOrdered: keyOrdered) { outcome in
                        let delta = Counters(read: read, outcome: outcome, quarantined: quarantine.count, retries: retriesSoFar)
                        return await seal.checkpoint(delta, quarantine: quarantine, cursor: cursor, isLast: isLast, context: context)
                    }
                },
                onRetry: { error, attempt in
                    retries += 1
                    logger.warning("write failed; retrying", metadata: Runner.errorMetadata(error).merging([LogKey.attempt: .stringConvertible(attempt)]) { $1 })
                },
                onOpen: { await circuitOpened(context.targetBreaker, $0, logger: logger) })
            guard let committed else {
                // An earlier attempt committed rows and checkpoint together; its reply was lost. Its
                // counters stand; the time spent since goes with the next checkpoint.
                logger.info("batch had already been committed by an earlier attempt", metadata: [LogKey.retries: .stringConvertible(retries)])
                let nothing = Counters(read: 0, outcome: WriteOutcome(), quarantined: 0, batches: 0, retries: retries)
                return BatchResult(delta: nothing, quarantine: [], cursor: cursor, isLast: isLast, checkpointed: true)
            }
            return BatchResult(delta: committed.delta, quarantine: quarantine, cursor: cursor, isLast: isLast, checkpointed: true)
        } catch let error as BackfillError where error.kind == .data {
            logger.debug("batch refused by the target; isolating the rows", metadata: Runner.errorMetadata(error))
            return nil
        }
    }

    /// Writes rows; a batch the target refuses for a data error is split in halves until the
    /// offending rows are isolated and quarantined, and the rest is written.
    private func writeSplitting(_ rows: [[Value]], logger: Logger) async throws -> Written {
        guard !rows.isEmpty else { return Written() }
        var written = Written()
        var retries = 0
        do {
            let keyOrdered = context.source.isKeyOrdered
            let dryRun = context.configuration.dryRun
            let outcome = try await retry(through: context.targetBreaker).run(
                { try await context.sink.write(rows, keyOrdered: keyOrdered, dryRun: dryRun) },
                onRetry: { error, attempt in
                    retries += 1
                    logger.warning("write failed; retrying", metadata: Runner.errorMetadata(error).merging([LogKey.attempt: .stringConvertible(attempt)]) { $1 })
                },
                onOpen: { await circuitOpened(context.targetBreaker, $0, logger: logger) })
            written.outcome = outcome
            written.retries = retries
        } catch let error as BackfillError where error.kind == .data {
            if rows.count == 1 {
                written.quarantined = [(rows[0], error.message)]
                return written
            }
            let middle = rows.count / 2
            let first = try await writeSplitting(Array(rows[..<middle]), logger: logger)
            let second = try await writeSplitting(Array(rows[middle...]), logger: logger)
            written.outcome = first.outcome + second.outcome
            written.quarantined = first.quarantined + second.quarantined
            written.retries = retries + first.retries + second.retries + 1
        }
        return written
    }

    private func quarantineRecord(
        chunk: ChunkRecord, key: [Value]?, line: Int?, type: String, reason: String, row: [Value]?, raw: String?
    ) -> QuarantineRecord {
        QuarantineRecord(
            runID: context.runID, chunkIndex: chunk.index, key: key, line: line, errorType: type, reason: reason,
            row: row, raw: raw, at: Date())
    }

    private func report(_ delta: Counters, seconds: Double, chunk: ChunkRecord, done: Bool, cursor: Cursor?, logger: Logger) {
        context.observer.batchCommitted(BatchReport(
            runID: context.runID, chunkIndex: chunk.index, counters: delta, seconds: seconds, chunkDone: done))
        logger.debug("batch committed", metadata: [
            LogKey.batchRows: .stringConvertible(delta.read), LogKey.batchSeconds: .string(String(format: "%.4f", seconds)),
            LogKey.inserted: .stringConvertible(delta.inserted), LogKey.updated: .stringConvertible(delta.updated),
            LogKey.unchanged: .stringConvertible(delta.unchanged), LogKey.skipped: .stringConvertible(delta.skipped),
            LogKey.quarantined: .stringConvertible(delta.quarantined),
        ])
        if delta.quarantined > 0 {
            logger.warning("rows quarantined", metadata: [LogKey.quarantined: .stringConvertible(delta.quarantined)])
        }
        if done { logger.debug("chunk done", metadata: [LogKey.chunk: .stringConvertible(chunk.index)]) }
    }
}
