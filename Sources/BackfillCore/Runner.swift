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
    let differ: (any RangeDiffer)?
    let checkpointing: (any CheckpointingSink)?

    /// - Parameters:
    ///   - transfer: a same-engine fast path used instead of read + write (not for dry runs).
    ///   - comparer: skips chunks whose rows already match on both sides (not with `--limit`).
    ///   - differ: reads and writes only the rows of a batch whose hashes differ on the two sides.
    ///   - checkpointing: `sink` again, able to commit each batch's checkpoint with its rows
    ///     because `state` lives in the target database (not for dry runs).
    public init(
        job: ResolvedJob, source: any Source, sink: any Sink, state: any StateStore,
        configuration: RunnerConfiguration, logger: Logger, observer: any RunObserver = SilentObserver(),
        transfer: (any BatchTransfer)? = nil, comparer: (any RangeComparer)? = nil, differ: (any RangeDiffer)? = nil,
        checkpointing: (any CheckpointingSink)? = nil
    ) {
        self.differ = differ
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

    /// Runs until every chunk is done, the run is cancelled, the `--limit` is reached or the
    /// error guard pauses it; returns the run's summary.
    /// - Throws: the first permanent error; the run is then marked `failed` with its message.
    public func execute(run: RunRecord) async throws -> RunSummary {
        let started = configuration.clock.now
        var logger = self.logger
        logger[metadataKey: LogKey.run] = .stringConvertible(run.id)
        observer.runStarted(run, estimatedRows: run.estimatedRows, alreadyRead: run.counters.read)
        var startMetadata: Logger.Metadata = [LogKey.status: .string(run.status.rawValue), LogKey.read: .stringConvertible(run.counters.read)]
        if checkpointing != nil { startMetadata[LogKey.checkpoints] = "with-writes" }
        logger.info("run started", metadata: startMetadata)
        let context = makeContext(run: run, logger: logger)
        let heartbeat = state.leasesChunks ? startHeartbeat(runID: run.id, logger: logger) : nil
        defer { heartbeat?.cancel() }
        let sampler = startSampler(runID: run.id, timeline: context.timeline, logger: logger)
        defer { sampler.cancel() }
        var machine = RunStateMachine(status: run.status)
        let stops: [StopReason]
        do {
            stops = try await runUntilNoChunkIsPending(context: context)
        } catch is CancellationError {
            // The task running the run was cancelled (the process shuts down): like a crash, the
            // run stays as it is, and the next `backfill run` resumes it after the last checkpoint.
            logger.warning("run interrupted: its task was cancelled")
            throw CancellationError()
        } catch {
            let message = (error as? BackfillError)?.description ?? "\(error)"
            for case .persist(let change) in machine.handle(.failed(message: message)) {
                _ = try? await state.apply(change, runID: run.id)
            }
            logger.error("run failed", metadata: Self.errorMetadata(error))
            throw error
        }
        await context.timeline.workersEnded()
        let rest = await context.timeline.take()
        try await state.addTime(runID: run.id, activeSeconds: rest.working, waits: rest.waited)
        let stop = try await finish(run.id, machine: &machine, stops: stops)
        sampler.cancel()
        try? await state.recordSample(runID: run.id)
        let summary = try await summarize(runID: run.id, readBefore: run.counters.read, started: started, stop: stop)
        logFinished(summary, logger: logger)
        observer.runFinished(summary)
        return summary
    }

    /// What every worker of this execution shares.
    private func makeContext(run: RunRecord, logger: Logger) -> WorkerContext {
        let runID = run.id
        let clock = configuration.clock
        let metrics = RunMetrics(job: job.spec.name, runID: runID)
        return WorkerContext(
            runID: runID, job: job, source: source, sink: sink.forRun(run), state: state, configuration: configuration,
            logger: logger, observer: observer, transfer: transfer?.forRun(run), comparer: comparer, differ: differ,
            checkpointing: checkpointing?.forRun(run), metrics: metrics, timeline: RunTimeline(metrics: metrics, clock: clock),
            gates: RunGates(
                pauseFile: configuration.pauseFile, window: configuration.window, throttle: configuration.throttle,
                probe: { [source] query in try await source.probe(query) }, pollInterval: configuration.pollInterval,
                clock: clock, replicaLag: replicaLagGate(clock: clock), targetLatency: targetLatencyGate(),
                sourceLag: configuration.replicaLag.flatMap { limit in configuration.sourceLag.map { SourceLagGate(limit: limit, read: $0) } }),
            control: LoadController(gentleShare: configuration.gentleShare, clock: clock),
            liveTraffic: LiveTrafficSensor(mode: configuration.liveTraffic, read: configuration.liveSessions, clock: clock),
            batchLimiter: RateLimiter(rowsPerSecond: configuration.batchesPerSecond ?? 0, burst: 1, clock: clock),
            sourceBreaker: CircuitBreaker(
                dependency: "source", threshold: configuration.circuitFailures, coolDown: configuration.circuitCoolDown, clock: clock),
            targetBreaker: CircuitBreaker(
                dependency: "target", threshold: configuration.circuitFailures, coolDown: configuration.circuitCoolDown, clock: clock),
            slots: WorkerSlots(allowed: configuration.workers),
            errorGuard: ErrorGuard(maxRate: configuration.maxErrorRate),
            walBudget: WalBudget(bytesPerSecond: configuration.walBytesPerSecond, clock: clock),
            byteBudget: ByteBudget(bytesPerSecond: configuration.bytesPerSecond, clock: clock),
            budget: RowBudget(limit: configuration.limitRows),
            limiter: RateLimiter(
                rowsPerSecond: configuration.rowsPerSecond ?? 0,
                burst: max((configuration.rowsPerSecond ?? 0) / 10, Double(configuration.batchSize)), clock: clock))
    }

    /// `health.replica-lag` as a gate on the target's standbys; with a limit but no way to read
    /// them (nor the source's lag), a gate that always waits (fails closed) rather than none.
    private func replicaLagGate(clock: any RunClock) -> ReplicaLagGate? {
        guard let limit = configuration.replicaLag, configuration.standbys != nil || configuration.sourceLag == nil else { return nil }
        let read = configuration.standbys ?? {
            throw BackfillError(.invalidSpec, "this target reports no standbys", location: "health.replica-lag")
        }
        return ReplicaLagGate(limit: limit, read: read, gauge: ReplicaLagGauge(clock: clock))
    }

    /// `health.target-latency` as a gate; with a limit but no probe, one that always waits.
    private func targetLatencyGate() -> TargetLatencyGate? {
        guard let limit = configuration.targetLatency else { return nil }
        let probe = configuration.targetProbe ?? {
            throw BackfillError(.invalidSpec, "this target has no latency probe", location: "health.target-latency")
        }
        return TargetLatencyGate(limit: limit, probe: probe)
    }

    /// Runs the workers; a worker retired by `set workers=N` may have handed back its chunk after
    /// the others had found none left, so they start again until no chunk is pending. (With leased
    /// chunks a worker only ends once no chunk is pending or running: it waits for the ones others
    /// hold.) Returns why the workers stopped, if any did before the chunks ran out.
    private func runUntilNoChunkIsPending(context: WorkerContext) async throws -> [StopReason] {
        let pipeline = BatchPipeline(context: context)
        while true {
            let stops = try await WorkerPool(context: context, pipeline: pipeline).run()
            guard stops.isEmpty, try await state.chunks(runID: context.runID).contains(where: { $0.status == .pending }) else {
                return stops
            }
        }
    }

    /// Lets the run's state machine settle the status the workers left, and stores it.
    private func finish(_ runID: Int64, machine: inout RunStateMachine, stops: [StopReason]) async throws -> StopReason {
        if let current = try await state.run(id: runID) { _ = machine.handle(.statusObserved(current.status)) }
        let allDone = try await state.chunks(runID: runID).allSatisfy { $0.status == .done }
        let actions = machine.handle(.workersEnded(stops: stops, allChunksDone: allDone, limit: configuration.limitRows))
        var stop = StopReason.ended(machine.status)
        for action in actions {
            switch action {
            case .persist(let change): try await state.apply(change, runID: runID)
            case .stop(let reason): stop = reason
            default: break
            }
        }
        return stop
    }

    private func logFinished(_ summary: RunSummary, logger: Logger) {
        logger.info("run finished", metadata: [
            LogKey.status: .string(configuration.dryRun ? "dry-run" : summary.status.rawValue),
            LogKey.read: .stringConvertible(summary.counters.read),
            LogKey.inserted: .stringConvertible(summary.counters.inserted),
            LogKey.updated: .stringConvertible(summary.counters.updated),
            LogKey.unchanged: .stringConvertible(summary.counters.unchanged),
            LogKey.skipped: .stringConvertible(summary.counters.skipped),
            LogKey.quarantined: .stringConvertible(summary.counters.quarantined),
            LogKey.rowsPerSecond: .stringConvertible(Int(summary.rowsPerSecond)),
            LogKey.errorsByType: .dictionary(summary.errorsByType.mapValues { .stringConvertible($0) }),
            LogKey.retries: .stringConvertible(summary.counters.retries),
        ])
    }

    /// Records the run's totals now and every `sampleInterval` until cancelled, with the time
    /// worked and waited so far and the binding signal (so `status` shows a gate holding the run
    /// although no checkpoint is made meanwhile); a failed sample is logged and skipped (it only
    /// thins the charts).
    private func startSampler(runID: Int64, timeline: RunTimeline, logger: Logger) -> Task<Void, Never> {
        let (state, interval, clock) = (self.state, configuration.sampleInterval, configuration.clock)
        return Task {
            while !Task.isCancelled {
                do {
                    let times = await timeline.take(binding: true)
                    try await state.addTime(runID: runID, activeSeconds: times.working, waits: times.waited)
                    try await state.recordSample(runID: runID)
                } catch {
                    logger.debug("recording a sample failed", metadata: Self.errorMetadata(error))
                }
                try? await clock.sleep(for: interval)
            }
        }
    }

    /// Renews this process's chunk leases every `heartbeatInterval` until cancelled; a failed
    /// renewal is logged and tried again (the lease outlives two missed beats).
    private func startHeartbeat(runID: Int64, logger: Logger) -> Task<Void, Never> {
        let (state, interval, clock) = (self.state, configuration.heartbeatInterval, configuration.clock)
        return Task {
            while !Task.isCancelled {
                try? await clock.sleep(for: interval)
                if Task.isCancelled { break }
                do {
                    try await state.heartbeat(runID: runID)
                } catch {
                    logger.warning("lease heartbeat failed; retrying", metadata: Self.errorMetadata(error))
                }
            }
        }
    }

    private func summarize(runID: Int64, readBefore: Int, started: ContinuousClock.Instant, stop: StopReason) async throws -> RunSummary {
        guard let run = try await state.run(id: runID) else {
            throw BackfillError(.stateStore, "run \(runID) disappeared from the state store")
        }
        let chunks = try await state.chunks(runID: runID)
        let elapsed = started.duration(to: configuration.clock.now)
        let seconds = elapsed.inSeconds
        let readNow = run.counters.read - readBefore
        return RunSummary(
            runID: runID, job: run.job, status: run.status, reason: run.reason, dryRun: configuration.dryRun,
            counters: run.counters, readThisInvocation: readNow, seconds: seconds,
            rowsPerSecond: seconds > 0 ? Double(readNow) / seconds : 0,
            failureRate: run.counters.failureRate,
            chunks: chunks, balanced: run.counters.isBalanced, peakResidentBytes: peakResidentBytes(),
            errorsByType: try await state.quarantineCounts(runID: runID), stop: stop)
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
    let differ: (any RangeDiffer)?
    let checkpointing: (any CheckpointingSink)?
    let metrics: RunMetrics
    let timeline: RunTimeline
    let gates: RunGates
    /// The load the health signals and live traffic allow (`LoadController`).
    let control: LoadController
    /// Other applications on the target (`health.live-traffic`).
    let liveTraffic: LiveTrafficSensor
    let batchLimiter: RateLimiter
    let sourceBreaker: CircuitBreaker
    let targetBreaker: CircuitBreaker
    let slots: WorkerSlots
    let errorGuard: ErrorGuard
    /// `limits.wal-bytes-per-second` (off until the spec or `set` gives one), read through
    /// `configuration.walPosition`.
    let walBudget: WalBudget
    /// `limits.bytes-per-second` (off until the spec or `set` gives one).
    let byteBudget: ByteBudget
    var clock: any RunClock { configuration.clock }
    var stop: StopSignal { configuration.stop ?? ownStop }
    let ownStop = StopSignal()
    let budget: RowBudget
    let limiter: RateLimiter
}
