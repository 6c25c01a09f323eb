import Logging

/// Why a worker ended.
enum WorkerExit: Sendable, Equatable {
    /// No chunk is left to claim (or, with leased chunks, to wait for).
    case noMoreChunks
    /// Fewer workers were asked for (`backfill set RUN workers=N`); its chunk went back to pending.
    case retired
    /// The run stopped for this worker; its chunk went back to pending.
    case stopped(StopReason)
}

/// One worker: claims chunks until none is left and feeds each chunk's batches through the
/// run's `BatchPipeline`. Its `RunStateMachine` decides, before and after every batch, whether
/// it goes on, waits or stops.
struct ChunkWorker: Sendable {
    let context: WorkerContext
    let number: Int
    let pipeline: BatchPipeline
    let waiter: RunWaiter
    let steps: WorkerSteps

    init(context: WorkerContext, number: Int, pipeline: BatchPipeline) {
        self.context = context
        self.number = number
        self.pipeline = pipeline
        self.waiter = RunWaiter(context: context)
        self.steps = WorkerSteps(context: context)
    }

    func run() async throws -> WorkerExit {
        var sizer = context.configuration.batchSizer
        var machine = RunStateMachine(status: .running)
        var announcedIdle = false
        while true {
            if let chunk = try await context.state.claimChunk(runID: context.runID) {
                announcedIdle = false
                let exit = try await pipeline.claimed(logger: context.logger) { flow in
                    try await process(chunk, flow: flow, machine: &machine, sizer: &sizer)
                }
                if let exit { return exit }
                continue
            }
            guard context.state.leasesChunks else { return .noMoreChunks }
            // Nothing to claim while other processes hold chunks: ask the holder of the biggest
            // rest to split it (work stealing), and look again — until every chunk is done. A
            // holder that dies meanwhile loses its chunks to this loop when their leases expire.
            if let stop = try await waiter.waitUntilClear(&machine, holding: nil, sizer: &sizer, logger: context.logger) {
                return .stopped(stop)
            }
            if await context.slots.shouldRetire() { return .retired }
            let chunks = try await context.state.chunks(runID: context.runID)
            if chunks.contains(where: { $0.status == .pending }) { continue }
            let held = chunks.filter { $0.status == .running }.count
            guard held > 0 else { return .noMoreChunks }
            if !announcedIdle {
                context.logger.info("waiting for chunks other workers hold", metadata: [
                    LogKey.chunk: .stringConvertible(held), LogKey.worker: .stringConvertible(number),
                ])
                announcedIdle = true
            }
            _ = try await context.state.requestSplit(runID: context.runID, minimumRows: ChunkSplitter.minimumRows(context))
            try await context.clock.sleep(for: context.configuration.idlePollInterval)
        }
    }

    /// Runs one chunk's batches (with the chunk's event flow, for an events job delivered one
    /// request at a time); `nil` when the worker is done with the chunk (finished, or taken over
    /// by another process), otherwise why the worker ends.
    private func process(
        _ claimed: ChunkRecord, flow: EventFlow?, machine: inout RunStateMachine, sizer: inout BatchSizer
    ) async throws -> WorkerExit? {
        var logger = context.logger
        logger[metadataKey: LogKey.chunk] = .stringConvertible(claimed.index)
        logger[metadataKey: LogKey.worker] = .stringConvertible(number)
        var progress = ChunkProgress(
            claimed, seenKeys: context.source.isKeyOrdered ? nil : SeenKeys(), windowsFirst: context.differ?.windowsFirst ?? false,
            flow: flow, now: context.clock.now)
        while true {
            if let stop = try await waiter.waitUntilClear(&machine, holding: progress.chunk, flow: progress.flow, sizer: &sizer, logger: logger) {
                return .stopped(stop)
            }
            if await context.slots.shouldRetire() {
                try await context.state.releaseChunk(id: progress.chunk.id)
                logger.info("worker retired: fewer workers asked for")
                return .retired
            }
            await senseLiveTraffic()
            let wanted = await context.budget.take(sizer.size)
            // With `--limit` reached, the events already read are still delivered and checkpointed
            // (a batch of 0 rows reads nothing and settles).
            let unsettled = await progress.flow?.hasUnsettled ?? false
            if wanted == 0, !unsettled {
                let actions = machine.handle(.budgetExhausted(rows: context.configuration.limitRows ?? 0))
                if case .stop(let reason) = try await steps.perform(actions, holding: progress.chunk, sizer: &sizer, logger: logger) {
                    return .stopped(reason)
                }
                return .stopped(.limitReached(rows: context.configuration.limitRows ?? 0))
            }
            // While gentle, one batch at a time across workers; its cost is booked before the
            // next worker's turn, which then waits it off.
            let turns = await context.control.isGentle ? context.control.turns : nil
            try await turns?.take()
            let timed: (BatchResult, seconds: Double)?
            let period = context.errorGuard.period
            do {
                guard try await pace(wanted) else {
                    await turns?.give()
                    await context.budget.giveBack(wanted)
                    continue
                }
                timed = try await runBatch(progress.request(limit: wanted, logger: logger), logger: logger)
                if let timed { await context.control.spend(timed.seconds) }
                await turns?.give()
            } catch {
                await turns?.give()
                throw error
            }
            guard let result = timed else { return nil }
            await account(result, wanted: wanted, progress: &progress, sizer: &sizer, logger: logger)
            switch try await afterBatch(result, begunIn: period, progress: &progress, machine: &machine, sizer: &sizer, logger: logger) {
            case .proceed, .wait: continue
            case .leaveChunk: return nil
            case .stop(let reason): return .stopped(reason)
            }
        }
    }

    /// Waits as long as the run's budgets (rows, batches, bytes, WAL) and its controller's load ask
    /// before a batch of `rows` rows; the longest wait names the signal that binds. Returns `false`
    /// when the run was stopped or paused meanwhile (looked at every poll interval): the worker
    /// then goes back to its checks instead of starting the batch.
    private func pace(_ rows: Int) async throws -> Bool {
        let control = context.control
        let budgets: [(ControlSignal, Duration)] = [
            (.rowsPerSecond, await context.limiter.reserve(rows)),
            (.batchesPerSecond, await context.batchLimiter.reserve(1)),
            (.walBytesPerSecond, try await walWait()),
            (.bytesPerSecond, await context.byteBudget.wait()),
        ]
        let budget = budgets.max(by: { $0.1 < $1.1 }) ?? (.rowsPerSecond, .zero)
        var load = await control.wait()
        var signal = load > budget.1 ? await control.limitedBy ?? .liveTraffic : budget.0
        var wait = max(budget.1, load)
        guard wait > .zero else { return true }
        await context.timeline.held(by: signal, seconds: 0)
        var slept = Duration.zero
        while slept < wait {
            let slice = min(wait - slept, context.configuration.pollInterval)
            try await context.clock.sleep(for: slice)
            slept += slice
            // Counted slice by slice: a long wait keeps its signal binding, and its seconds show as they pass.
            context.metrics.rateLimited(slice.inSeconds)
            await context.timeline.held(by: signal, seconds: slice.inSeconds)
            guard slept < wait else { break }
            if try await isInterrupted() { return false }
            // The load's wait follows the live system while it lasts: once live traffic leaves, the
            // load grows back and the wait shortens (it was set at the gentle share).
            guard load > budget.1 else { continue }
            await senseLiveTraffic()
            guard await control.regrow(capacity: await context.slots.allowed) else { continue }
            load = slept + (await control.wait())
            wait = max(budget.1, load)
            if load <= budget.1 { signal = budget.0 }
        }
        return true
    }

    /// The run was stopped (a signal) or is no longer running (paused, cancelled) since the batch
    /// was paced.
    private func isInterrupted() async throws -> Bool {
        if await context.stop.isSet { return true }
        guard let run = try await context.state.directives(runID: context.runID) else { return true }
        return run.status != .running && run.status != .planned
    }

    /// Tells the controller whether other applications work on the target (`health.live-traffic`),
    /// and says so when that changes or cannot be seen.
    private func senseLiveTraffic() async {
        let (present, problem) = await context.liveTraffic.sense()
        if let problem {
            await report(
                "other applications' sessions on the target cannot be seen (\(problem)); the run stays gentle (health.live-traffic)",
                kind: "live-traffic", level: .warning)
        }
        guard await context.control.liveTraffic(present) else { return }
        let share = await context.control.gentleShare
        await report(
            present
                ? "live traffic on the target: batches take at most \(Int((share * 100).rounded()))% of a worker's time (health.live-traffic)"
                : "no live traffic on the target any more: back to full speed (health.live-traffic)",
            kind: "live-traffic", level: .info)
    }

    /// Logs `message` and records it in the run's events (a failed record only thins the log).
    private func report(_ message: String, kind: String, level: Logger.Level) async {
        context.logger.log(level: level, "\(message)")
        try? await context.state.recordEvent(runID: context.runID, kind: kind, message: message)
    }

    /// How long the WAL budget asks to wait. A WAL position that cannot be read is asked again
    /// after the poll interval, up to the run's retries, and then fails the run: no batch goes out
    /// unmeasured.
    private func walWait() async throws -> Duration {
        let budget = context.walBudget
        guard await budget.isOn else { return .zero }
        guard let read = context.configuration.walPosition else {
            // The spec refuses the limit for other targets; `set` cannot know the target: said once, in the log and the run's events.
            if await budget.firstIgnored() {
                await report(
                    "wal-bytes-per-second was set, but this run's target writes no WAL: it has no effect", kind: "knob-ignored", level: .warning)
            }
            return .zero
        }
        var attempt = 0
        while true {
            do {
                return await budget.wait(after: try await read())
            } catch let error as BackfillError where attempt < context.configuration.retries {
                attempt += 1
                var metadata = Runner.errorMetadata(error)
                metadata[LogKey.attempt] = .stringConvertible(attempt)
                context.logger.warning("the target's WAL position cannot be read; waiting (limits.wal-bytes-per-second)", metadata: metadata)
                try await context.clock.sleep(for: context.configuration.pollInterval)
            }
        }
    }

    /// The batch through the pipeline, timed; `nil` when the chunk's lease was lost meanwhile.
    private func runBatch(_ request: BatchRequest, logger: Logger) async throws -> (BatchResult, seconds: Double)? {
        let started = context.clock.now
        await context.timeline.beginBatch()
        do {
            let result = try await pipeline.run(request)
            await context.timeline.endBatch()
            return (result, started.duration(to: context.clock.now).inSeconds)
        } catch let error as BackfillError where error.code == .leaseLost {
            await context.timeline.endBatch()
            await ChunkSplitter.leaseLost(request.chunk, error, context: context, logger: logger)
            return nil
        } catch {
            await context.timeline.endBatch()
            throw error
        }
    }

    /// Gives back what the batch did not use, learns from its speed and reports it.
    private func account(
        _ timed: (BatchResult, seconds: Double), wanted: Int, progress: inout ChunkProgress, sizer: inout BatchSizer,
        logger: Logger
    ) async {
        let (result, seconds) = timed
        let delta = result.delta
        let taken = result.taken ?? delta.read
        if taken < wanted {
            await context.budget.giveBack(wanted - taken)
            await context.limiter.refund(wanted - taken)
        }
        if !result.compared { sizer.observe(rows: taken, seconds: seconds) }
        // A call that read nothing and settled nothing (an events flow waiting) is no batch.
        if taken > 0 || result.checkpoints > 0 {
            await context.byteBudget.spend(delta.shippedBytes)
            context.metrics.batch(delta, seconds: seconds, size: wanted)
        }
        progress.advance(past: result)
        guard result.checkpoints > 0 else { return }
        BatchLog.report(
            delta, seconds: seconds, chunk: progress.chunk, done: result.isLast, context: context, logger: logger)
    }

    /// Answers a split request and the error guard (for a batch begun in the guard's `period`), then
    /// asks the machine where to go.
    private func afterBatch(
        _ timed: (BatchResult, seconds: Double), begunIn period: Int, progress: inout ChunkProgress, machine: inout RunStateMachine,
        sizer: inout BatchSizer, logger: Logger
    ) async throws -> WorkerSteps.Step {
        let result = timed.0
        // (An events flow reads ahead of its checkpoint: its chunk is never split.)
        if context.state.leasesChunks, !result.isLast, progress.flow == nil,
            progress.lastSplitCheck.duration(to: context.clock.now) >= context.configuration.idlePollInterval
        {
            progress.lastSplitCheck = context.clock.now
            let splitter = ChunkSplitter(context: context)
            switch await splitter.answerRequest(progress.chunk, generation: progress.generation, after: progress.cursor, logger: logger) {
            case .unchanged: break
            case .split(let smaller): progress.adopt(smaller)
            case .lost: return .leaveChunk
            }
        }
        var actions: [RunStateMachine.Action] = []
        if let rate = context.errorGuard.observe(result.delta, begunIn: period) {
            let reason = ErrorGuard.reason(rate: rate, limit: context.configuration.maxErrorRate ?? 0, runID: context.runID)
            actions = machine.handle(.errorRateExceeded(
                reason: reason, rate: rate, waitForResume: context.configuration.waitWhenPausedByGuard))
            // The last batch of the chunk was checkpointed with it: nothing to hand back.
            if result.isLast { actions.removeAll { $0 == .releaseChunk } }
        }
        actions += machine.handle(.batchCommitted(chunkDone: result.isLast))
        if case .stop(let reason) = try await steps.perform(actions, holding: progress.chunk, sizer: &sizer, logger: logger) {
            return .stop(reason)
        }
        return result.isLast ? .leaveChunk : .proceed
    }
}

/// Where a claimed chunk stands between its batches.
struct ChunkProgress: Sendable {
    private(set) var chunk: ChunkRecord
    private(set) var cursor: Cursor?
    private(set) var generation: Int
    let seenKeys: SeenKeys?
    /// The chunk's event flow (`EventPath`), if any.
    let flow: EventFlow?
    var lastSplitCheck: ContinuousClock.Instant
    /// A window is compared before the rest of the chunk (`RangeDiffer.windowsFirst`).
    private let windowsFirst: Bool
    /// Whether the last batch found every row already equal.
    private var lastBatchEqual = false
    /// A comparison of the rest of the chunk was offered in this claim.
    private var comparisonOffered = false

    init(_ chunk: ChunkRecord, seenKeys: SeenKeys?, windowsFirst: Bool = false, flow: EventFlow? = nil, now: ContinuousClock.Instant) {
        self.chunk = chunk
        self.cursor = chunk.cursor
        self.generation = chunk.generation
        self.seenKeys = seenKeys
        self.flow = flow
        self.windowsFirst = windowsFirst
        self.lastSplitCheck = now
    }

    /// Whether the next batch may try to settle the rest of the chunk with one comparison of counts
    /// and checksums (`ChunkComparisonPath`), once per claim. The comparison hashes the whole rest
    /// on both sides; where it finds a difference that work is lost, and the batches hash it again.
    /// Where windows are cheap (`RangeDiffer.windowsFirst`: both sides hash in their servers) it
    /// waits for a batch that found every row equal: a chunk whose first window differs is most
    /// likely damaged further on too (on the peers' damage, hashing every chunk twice cost a first
    /// run 0.3 s of 2.1), while an equal chunk costs one window more. Otherwise it is tried first.
    var mayCompareRest: Bool {
        guard !comparisonOffered else { return false }
        return !windowsFirst || lastBatchEqual
    }

    func request(limit: Int, logger: Logger) -> BatchRequest {
        BatchRequest(
            chunk: chunk, cursor: cursor, limit: limit, generation: generation, mayCompareRest: mayCompareRest,
            restProbed: lastBatchEqual, seenKeys: seenKeys, flow: flow, logger: logger)
    }

    /// After a batch: each checkpoint it committed bumped the chunk's generation.
    mutating func advance(past result: BatchResult) {
        if mayCompareRest { comparisonOffered = true }
        generation += result.checkpoints
        let delta = result.delta
        lastBatchEqual = delta.read > 0 && delta.unchanged == delta.read
        cursor = result.cursor ?? cursor
    }

    /// The chunk after an idle worker's split took its second half.
    mutating func adopt(_ smaller: ChunkRecord) {
        chunk = smaller
        generation = smaller.generation
    }
}
