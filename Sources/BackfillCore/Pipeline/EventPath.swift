import Logging

/// The path of every batch of an events job whose target takes events one request at a time (a
/// webhook): read, shape, leave out what the ledger holds, and admit the rest to the chunk's
/// `EventFlow` — which delivers across batches — then checkpoint the batches settled so far.
///
/// A batch's call returns as soon as its events are admitted, so reading runs ahead of delivery
/// by up to a window of events; the checkpoint it commits covers the contiguous prefix of settled
/// batches (none: no checkpoint). While the window is full, or once the source is read to its end,
/// a call waits at most the poll interval and reads nothing; the chunk is done when its last batch
/// is settled.
struct EventPath: BatchPath {
    let deliverer: any EventDeliverer
    let source: any Source
    let shaper: BatchShaper
    let sealer: CheckpointSealer
    let calls: DependencyCalls
    let configuration: RunnerConfiguration
    let state: any StateStore
    let runID: Int64

    init(deliverer: any EventDeliverer, context: WorkerContext, calls: DependencyCalls, sealer: CheckpointSealer) {
        self.deliverer = deliverer
        self.source = context.source
        self.shaper = BatchShaper(context: context)
        self.sealer = sealer
        self.calls = calls
        self.configuration = context.configuration
        self.state = context.state
        self.runID = context.runID
    }

    /// Events unsettled at most while reading goes on: two batches, enough for every request slot
    /// to find a ready key among them — and at least 4,096, so that a key held back by its
    /// receiver holds back reading only once that many events wait behind it.
    func window(batch: Int) -> Int { max(2 * batch, 16 * deliverer.concurrency, 4096) }

    /// Runs `body` — the worker's batches of one claimed chunk — with the chunk's flow delivering
    /// beside it. When `body` returns (the chunk done, or the worker stopping) the requests in
    /// flight are answered first; when it throws they are abandoned. Either way, what was
    /// acknowledged is recorded in the ledger.
    func flowing<T>(_ body: (EventFlow) async throws -> T, logger: Logger) async throws -> T {
        let (state, runID) = (self.state, self.runID)
        let flow = EventFlow(
            deliverer: deliverer, clock: configuration.clock, rounds: configuration.retries, roundBackoff: configuration.backoffBase,
            circuitFailures: configuration.circuitFailures, circuitCoolDown: configuration.circuitCoolDown, logger: logger,
            circuitOpened: { message in try? await state.recordEvent(runID: runID, kind: "circuit-open", message: message) })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await flow.run() }
            do {
                let result = try await body(flow)
                await flow.close(drain: true)
                try await group.waitForAll()
                try await flow.flushLedger()
                return result
            } catch {
                await flow.close(drain: false)
                group.cancelAll()
                try? await group.waitForAll()
                try? await flow.flushLedger()
                throw error
            }
        }
    }

    func process(_ request: BatchRequest) async throws -> BatchResult? {
        guard let flow = request.flow else { return nil }
        // Waits are short (the poll interval), so that the worker goes round its loop — a pause, a
        // stop — while the flow delivers; each round checkpoints what settled meanwhile.
        let wait = configuration.pollInterval
        let exhausted = await flow.exhausted
        if request.limit == 0 || exhausted {
            return try await seal(try await flow.settleAll(timeout: wait), of: request, read: nil)
        }
        guard try await flow.waitForRoom(request.limit, window: window(batch: request.limit), timeout: wait) else {
            return try await seal(try await flow.takeSettled(), of: request, read: nil)
        }
        var retries = 0
        let batch = try await calls.readBatch(from: source, for: request, retries: &retries)
        let shaped = shaper.shape(batch, chunk: request.chunk, seenKeys: request.seenKeys)
        let ids = shaped.rows.map(deliverer.eventID(of:))
        let deliverer = self.deliverer
        let done = try await calls.call(.target, "reading the ledger", logger: request.logger, retries: &retries) { _ in
            try await deliverer.delivered(among: ids)
        }
        var pending: (rows: [[Value]], ids: [String]) = ([], [])
        for (row, id) in zip(shaped.rows, ids) where !done.contains(id) {
            pending.rows.append(row)
            pending.ids.append(id)
        }
        var counters = Counters(
            read: batch.recordCount, outcome: WriteOutcome(unchanged: shaped.rows.count - pending.rows.count),
            quarantined: shaped.quarantine.count, retries: retries)
        counters.ship(pending.rows)
        try await flow.admit(
            pending.rows, ids: pending.ids,
            as: EventFlow.Batch(cursor: batch.cursor ?? request.cursor, isLast: batch.isLast, counters: counters, quarantine: shaped.quarantine))
        return try await seal(try await flow.takeSettled(), of: request, read: (batch.recordCount, batch.cursor))
    }

    /// Checkpoints the batches settled (none: no checkpoint). `read`: the rows this call read and
    /// where reading stands now (`nil`: it read nothing). The chunk is done once its last batch is settled.
    private func seal(_ settled: [EventFlow.Settled], of request: BatchRequest, read: (rows: Int, cursor: Cursor?)?) async throws -> BatchResult {
        var result = BatchResult(
            delta: Counters(), quarantine: [], cursor: read?.cursor, isLast: false, checkpointed: true, taken: read?.rows ?? 0)
        guard let last = settled.last else {
            result.checkpoints = 0
            return result
        }
        var delta = Counters()
        var quarantine: [QuarantineRecord] = []
        for batch in settled {
            var counters = batch.batch.counters
            counters.inserted += batch.delivered
            counters.quarantined += batch.refused.count
            counters.retries += batch.retries
            delta = delta + counters
            quarantine += batch.batch.quarantine
            quarantine += batch.refused.map { row, reason in
                shaper.record(chunk: request.chunk, key: shaper.job.key(of: row), line: nil, type: "write", reason: reason, row: row, raw: nil)
            }
        }
        let sealed = BatchResult(delta: delta, quarantine: quarantine, cursor: last.batch.cursor, isLast: last.batch.isLast)
        try await sealer.commit(sealed, of: request)
        result.delta = delta
        result.quarantine = quarantine
        result.isLast = last.batch.isLast
        return result
    }
}
