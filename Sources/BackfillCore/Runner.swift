import Foundation
import Logging

/// Executes a run: `workers` workers claim chunks and loop read → shape → write → checkpoint.
///
/// The checkpoint of a batch is committed only after the sink committed its write (invariant 1),
/// so after a crash at most each worker's in-flight batch is written again, harmlessly — or, with
/// a `CheckpointingSink`, in the same transaction as the write, so not even that.
public struct Runner: Sendable {
    let job: ResolvedJob
    let source: any Source
    let sink: any Sink
    let state: any StateStore
    let configuration: RunnerConfiguration
    let logger: Logger
    let observer: any RunObserver
    let transfer: (any BatchTransfer)?
    let comparer: (any RangeComparer)?
    let checkpointing: (any CheckpointingSink)?

    /// - Parameters:
    ///   - transfer: a same-engine fast path used instead of read + write (not for dry runs).
    ///   - comparer: skips chunks whose rows already match on both sides (not with `--limit`).
    ///   - checkpointing: `sink` again, able to commit each batch's checkpoint with its rows
    ///     because `state` lives in the target database (not for dry runs).
    public init(
        job: ResolvedJob, source: any Source, sink: any Sink, state: any StateStore,
        configuration: RunnerConfiguration, logger: Logger, observer: any RunObserver = SilentObserver(),
        transfer: (any BatchTransfer)? = nil, comparer: (any RangeComparer)? = nil,
        checkpointing: (any CheckpointingSink)? = nil
    ) {
        self.transfer = configuration.dryRun ? nil : transfer
        self.comparer = configuration.limitRows == nil ? comparer : nil
        self.checkpointing = configuration.dryRun ? nil : checkpointing
        self.job = job
        self.source = source
        self.sink = sink
        self.state = state
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: LogKey.job] = .string(job.spec.name)
        self.logger = logger
        self.observer = observer
    }

    /// Why a worker stopped.
    enum WorkerExit: Sendable {
        case noMoreChunks, limitReached, cancelled, errorRateExceeded(Double)
        /// Fewer workers were asked for (`backfill set RUN workers=N`); the chunk went back to pending.
        case retired
        /// Not a worker: the supervisor asks for more workers.
        case scaleUp
    }

    /// Runs until every chunk is done, the run is cancelled, the `--limit` is reached or the
    /// error guard pauses it; returns the run's summary.
    /// - Throws: the first permanent error; the run is then marked `failed` with its message.
    public func execute(run: RunRecord) async throws -> RunSummary {
        let started = ContinuousClock.now
        var logger = self.logger
        logger[metadataKey: LogKey.run] = .stringConvertible(run.id)
        let before = run.counters.read
        observer.runStarted(run, estimatedRows: run.estimatedRows, alreadyRead: before)
        var startMetadata: Logger.Metadata = [LogKey.status: .string(run.status.rawValue), LogKey.read: .stringConvertible(before)]
        if checkpointing != nil { startMetadata[LogKey.checkpoints] = "with-writes" }
        logger.info("run started", metadata: startMetadata)
        let metrics = RunMetrics(job: job.spec.name, runID: run.id)
        let context = WorkerContext(
            runID: run.id, job: job, source: source, sink: sink, state: state, configuration: configuration,
            logger: logger, observer: observer, transfer: transfer, comparer: comparer, checkpointing: checkpointing,
            metrics: metrics, timeline: RunTimeline(metrics: metrics),
            gates: RunGates(
                pauseFile: configuration.pauseFile, window: configuration.window, throttle: configuration.throttle,
                probe: { [source] query in try await source.probe(query) }, pollInterval: configuration.pollInterval,
                now: configuration.now),
            batchLimiter: RateLimiter(rowsPerSecond: configuration.batchesPerSecond ?? 0, burst: 1),
            sourceBreaker: CircuitBreaker(
                dependency: "source", threshold: configuration.circuitFailures, coolDown: configuration.circuitCoolDown),
            targetBreaker: CircuitBreaker(
                dependency: "target", threshold: configuration.circuitFailures, coolDown: configuration.circuitCoolDown),
            slots: WorkerSlots(allowed: configuration.workers),
            errorGuard: ErrorGuard(maxRate: configuration.maxErrorRate),
            budget: RowBudget(limit: configuration.limitRows),
            limiter: RateLimiter(
                rowsPerSecond: configuration.rowsPerSecond ?? 0,
                burst: max((configuration.rowsPerSecond ?? 0) / 10, Double(configuration.batchSize))))
        let exits: [WorkerExit]
        let heartbeat = state.leasesChunks ? startHeartbeat(runID: run.id, logger: logger) : nil
        defer { heartbeat?.cancel() }
        let sampler = startSampler(runID: run.id, logger: logger)
        defer { sampler.cancel() }
        do {
            var ended = try await runWorkers(context: context)
            // A worker retired by `set workers=N` may have handed back its chunk after the others had
            // found none left: start again until no chunk is pending. (With leased chunks a worker
            // only ends once no chunk is pending or running: it waits for the ones others hold.)
            while ended.allSatisfy({ if case .noMoreChunks = $0 { true } else { false } }),
                try await state.chunks(runID: run.id).contains(where: { $0.status == .pending })
            {
                ended = try await runWorkers(context: context)
            }
            exits = ended
        } catch {
            let message = (error as? BackfillError)?.description ?? "\(error)"
            _ = try? await state.transition(runID: run.id, from: [.running, .planned, .paused], to: .failed, reason: message)
            try? await state.recordEvent(runID: run.id, kind: "failed", message: message)
            logger.error("run failed", metadata: Self.errorMetadata(error))
            throw error
        }
        let rest = await context.timeline.take()
        try await state.addTime(runID: run.id, activeSeconds: rest.working, waits: rest.waited)
        let (status, reason) = try await finalStatus(run: run, exits: exits)
        if status != .paused && status != .cancelled {
            // A pause or cancel that arrived after the last batch stands.
            _ = try await state.transition(runID: run.id, from: [.running, .planned], to: status, reason: reason)
        }
        try await state.recordEvent(runID: run.id, kind: status.rawValue, message: reason ?? "run \(status.rawValue)")
        sampler.cancel()
        try? await state.recordSample(runID: run.id)
        let summary = try await summarize(runID: run.id, readBefore: before, started: started)
        logger.info("run finished", metadata: [
            LogKey.status: .string(configuration.dryRun ? "dry-run" : summary.status.rawValue), LogKey.read: .stringConvertible(summary.counters.read),
            LogKey.inserted: .stringConvertible(summary.counters.inserted),
            LogKey.updated: .stringConvertible(summary.counters.updated),
            LogKey.unchanged: .stringConvertible(summary.counters.unchanged),
            LogKey.skipped: .stringConvertible(summary.counters.skipped),
            LogKey.quarantined: .stringConvertible(summary.counters.quarantined),
            LogKey.rowsPerSecond: .stringConvertible(Int(summary.rowsPerSecond)),
            LogKey.errorsByType: .dictionary(summary.errorsByType.mapValues { .stringConvertible($0) }),
            LogKey.retries: .stringConvertible(summary.counters.retries),
        ])
        observer.runFinished(summary)
        return summary
    }

    /// Records the run's totals now and every `sampleInterval` until cancelled; a failed sample
    /// is logged and skipped (it only thins the charts).
    private func startSampler(runID: Int64, logger: Logger) -> Task<Void, Never> {
        let (state, interval) = (self.state, configuration.sampleInterval)
        return Task {
            while !Task.isCancelled {
                do {
                    try await state.recordSample(runID: runID)
                } catch {
                    logger.debug("recording a sample failed", metadata: Self.errorMetadata(error))
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Renews this process's chunk leases every `heartbeatInterval` until cancelled; a failed
    /// renewal is logged and tried again (the lease outlives two missed beats).
    private func startHeartbeat(runID: Int64, logger: Logger) -> Task<Void, Never> {
        let (state, interval) = (self.state, configuration.heartbeatInterval)
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                do {
                    try await state.heartbeat(runID: runID)
                } catch {
                    logger.warning("lease heartbeat failed; retrying", metadata: Self.errorMetadata(error))
                }
            }
        }
    }

    /// Runs workers in a task group, with a supervisor that starts more of them when the run's
    /// `workers` knob grows; ends when every worker has ended.
    private func runWorkers(context: WorkerContext) async throws -> [WorkerExit] {
        try await withThrowingTaskGroup(of: WorkerExit.self) { group in
            var workers = 0
            func start() async {
                for number in await context.slots.workersToStart() {
                    workers += 1
                    group.addTask { try await ChunkWorker(context: context, number: number).run() }
                }
            }
            await start()
            group.addTask { await Self.supervise(context) }
            var exits: [WorkerExit] = []
            while let exit = try await group.next() {
                if case .scaleUp = exit {
                    await start()
                    if workers > 0 { group.addTask { await Self.supervise(context) } }
                    continue
                }
                workers -= 1
                if case .retired = exit {} else {
                    exits.append(exit)
                    await context.slots.ended()
                }
                if workers == 0 {
                    group.cancelAll()
                    break
                }
            }
            return exits.isEmpty ? [.noMoreChunks] : exits
        }
    }

    /// Waits until the run's `workers` knob asks for more workers than are active; returns
    /// `.scaleUp` then, or when cancelled (the run ended).
    private static func supervise(_ context: WorkerContext) async -> WorkerExit {
        while !Task.isCancelled {
            if let run = try? await context.state.run(id: context.runID), let wanted = run.knobs.workers,
                wanted > (await context.slots.allowed)
            {
                await context.slots.allow(wanted)
                return .scaleUp
            }
            try? await Task.sleep(for: context.configuration.pollInterval)
        }
        return .scaleUp
    }

    private func finalStatus(run: RunRecord, exits: [WorkerExit]) async throws -> (RunStatus, String?) {
        for exit in exits {
            if case .errorRateExceeded(let rate) = exit {
                return (.paused, ErrorGuard.reason(rate: rate, limit: configuration.maxErrorRate ?? 0, runID: run.id))
            }
        }
        if exits.contains(where: { if case .cancelled = $0 { true } else { false } }) {
            let current = try await state.run(id: run.id)
            return (current?.status ?? .cancelled, current?.reason)
        }
        let chunks = try await state.chunks(runID: run.id)
        if chunks.allSatisfy({ $0.status == .done }) { return (.completed, nil) }
        return (.planned, "stopped after --limit \(configuration.limitRows ?? 0) rows; run the spec again to continue")
    }

    private func summarize(runID: Int64, readBefore: Int, started: ContinuousClock.Instant) async throws -> RunSummary {
        guard let run = try await state.run(id: runID) else {
            throw BackfillError(.stateStore, "run \(runID) disappeared from the state store")
        }
        let chunks = try await state.chunks(runID: runID)
        let elapsed = started.duration(to: .now)
        let seconds = elapsed.inSeconds
        let readNow = run.counters.read - readBefore
        return RunSummary(
            runID: runID, job: run.job, status: run.status, reason: run.reason, dryRun: configuration.dryRun,
            counters: run.counters, readThisInvocation: readNow, seconds: seconds,
            rowsPerSecond: seconds > 0 ? Double(readNow) / seconds : 0,
            failureRate: run.counters.failureRate,
            chunks: chunks, balanced: run.counters.isBalanced, peakResidentBytes: peakResidentBytes(),
            errorsByType: try await state.quarantineCounts(runID: runID))
    }

    static func errorMetadata(_ error: any Error) -> Logger.Metadata {
        if let error = error as? BackfillError {
            return [
                LogKey.errorCode: .string(error.code.description), LogKey.errorKind: .string(error.kind.rawValue),
                LogKey.errorMessage: .string(error.description),
            ]
        }
        return [LogKey.errorMessage: .string(String(describing: type(of: error)))]
    }
}

/// What every worker of a run shares.
struct WorkerContext: Sendable {
    let runID: Int64
    let job: ResolvedJob
    let source: any Source
    let sink: any Sink
    let state: any StateStore
    let configuration: RunnerConfiguration
    let logger: Logger
    let observer: any RunObserver
    let transfer: (any BatchTransfer)?
    let comparer: (any RangeComparer)?
    let checkpointing: (any CheckpointingSink)?
    let metrics: RunMetrics
    let timeline: RunTimeline
    let gates: RunGates
    let batchLimiter: RateLimiter
    let sourceBreaker: CircuitBreaker
    let targetBreaker: CircuitBreaker
    let slots: WorkerSlots
    let errorGuard: ErrorGuard
    var stop: StopSignal { configuration.stop ?? ownStop }
    let ownStop = StopSignal()
    let budget: RowBudget
    let limiter: RateLimiter
}
