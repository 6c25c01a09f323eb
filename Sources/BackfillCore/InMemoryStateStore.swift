import Foundation

/// A state store that lives in memory: for dry runs, which must write nothing, and for tests.
public actor InMemoryStateStore: StateStore {
    private var runRecords: [Int64: RunRecord] = [:]
    private var chunkRecords: [Int64: ChunkRecord] = [:]
    private var quarantined: [QuarantineRecord] = []
    private var eventLog: [RunEvent] = []
    private var sampleLog: [Int64: [RunSample]] = [:]
    private var nextID: Int64 = 1

    private var delivered: [String: Set<String>] = [:]

    /// Runs before every checkpoint commits, and may fail it: where tests inject a fault between
    /// a batch's write and its checkpoint.
    private let beforeCheckpoint: (@Sendable (Checkpoint) async throws -> Void)?

    public init(beforeCheckpoint: (@Sendable (Checkpoint) async throws -> Void)? = nil) {
        self.beforeCheckpoint = beforeCheckpoint
    }

    public nonisolated func ledger(job: String) -> any DeliveryLedger { MemoryLedger(store: self, job: job) }

    fileprivate func deliveredIDs(job: String) -> Set<String> { delivered[job] ?? [] }

    fileprivate func addDelivered(job: String, _ ids: [String]) { delivered[job, default: []].formUnion(ids) }

    private func makeID() -> Int64 {
        defer { nextID += 1 }
        return nextID
    }

    public func createRun(_ new: NewRun) -> RunRecord {
        let now = Date()
        let run = RunRecord(
            id: makeID(), job: new.job, specFingerprint: new.specFingerprint, status: .running, createdAt: now,
            updatedAt: now, chunksTotal: new.chunks.count, estimatedRows: new.chunks.reduce(0) { $0 + $1.estimatedRows },
            owner: new.owner)
        runRecords[run.id] = run
        for plan in new.chunks {
            let id = makeID()
            chunkRecords[id] = ChunkRecord(
                id: id, runID: run.id, index: plan.index, range: plan.range, estimatedRows: plan.estimatedRows,
                status: .pending, cursor: nil, counters: Counters())
        }
        return run
    }

    public func latestResumableRun(job: String) -> RunRecord? {
        runRecords.values.filter { $0.job == job && $0.status.isResumable }.max { $0.id < $1.id }
    }

    public func newestRun(job: String) -> RunRecord? {
        latestResumableRun(job: job) ?? runRecords.values.filter { $0.job == job }.max { $0.id < $1.id }
    }

    public func run(id: Int64) -> RunRecord? { runRecords[id] }

    public func runs(limit: Int) -> [RunRecord] {
        Array(runRecords.values.sorted { $0.id > $1.id }.prefix(limit))
    }

    public func chunks(runID: Int64) -> [ChunkRecord] {
        chunkRecords.values.filter { $0.runID == runID }.sorted { $0.index < $1.index }
    }

    public func takeOver(runID: Int64, owner: String, replacing previous: String?) -> Bool {
        guard let run = runRecords[runID], run.owner == previous, run.status == .planned || run.status == .running else { return false }
        runRecords[runID]?.status = .running
        runRecords[runID]?.reason = nil
        runRecords[runID]?.owner = owner
        for (id, chunk) in chunkRecords where chunk.runID == runID && chunk.status == .running {
            chunkRecords[id]?.status = .pending
        }
        return true
    }

    public func claimChunk(runID: Int64) -> ChunkRecord? {
        guard let chunk = chunks(runID: runID).first(where: { $0.status == .pending }) else { return nil }
        chunkRecords[chunk.id]?.status = .running
        return chunkRecords[chunk.id]
    }

    public func releaseChunk(id: Int64) {
        if chunkRecords[id]?.status == .running { chunkRecords[id]?.status = .pending }
    }

    public func checkpoint(_ checkpoint: Checkpoint) async throws {
        try await beforeCheckpoint?(checkpoint)
        guard var chunk = chunkRecords[checkpoint.chunkID] else { return }
        chunk.cursor = checkpoint.cursor
        chunk.counters += checkpoint.delta
        if checkpoint.chunkDone {
            chunk.status = .done
            runRecords[checkpoint.runID]?.chunksDone += 1
        }
        chunkRecords[chunk.id] = chunk
        runRecords[checkpoint.runID]?.counters += checkpoint.delta
        runRecords[checkpoint.runID]?.activeSeconds += checkpoint.activeSeconds
        let waits = (runRecords[checkpoint.runID]?.waits ?? WaitTimes()) + checkpoint.waits
        runRecords[checkpoint.runID]?.waits = waits
        if let size = checkpoint.batchSize { runRecords[checkpoint.runID]?.batchSize = size }
        runRecords[checkpoint.runID]?.updatedAt = Date()
        for var item in checkpoint.quarantine {
            item.id = makeID()
            quarantined.append(item)
        }
    }

    public func setStatus(runID: Int64, _ status: RunStatus, reason: String?) {
        runRecords[runID]?.status = status
        runRecords[runID]?.reason = reason
        if !status.isResumable { runRecords[runID]?.finishedAt = Date() }
    }

    public func setWaitingReason(runID: Int64, _ reason: String?) {
        if runRecords[runID]?.status == .running { runRecords[runID]?.reason = reason }
    }

    public func addTime(runID: Int64, activeSeconds: Double, waits: WaitTimes) {
        runRecords[runID]?.activeSeconds += activeSeconds
        let sum = (runRecords[runID]?.waits ?? WaitTimes()) + waits
        runRecords[runID]?.waits = sum
    }

    public func recordSample(runID: Int64) {
        guard let run = runRecords[runID] else { return }
        sampleLog[runID, default: []].append(RunSample(run))
    }

    public func samples(runID: Int64, limit: Int) -> [RunSample] { Array((sampleLog[runID] ?? []).suffix(limit)) }

    public func recordVerification(runID: Int64, _ summary: VerificationSummary) {
        runRecords[runID]?.lastVerification = summary
    }

    public func setKnobs(runID: Int64, _ knobs: RunKnobs) {
        runRecords[runID]?.knobs = knobs
    }

    public func transition(runID: Int64, from: Set<RunStatus>, to status: RunStatus, reason: String?) -> Bool {
        guard let current = runRecords[runID]?.status, from.contains(current) else { return false }
        setStatus(runID: runID, status, reason: reason)
        return true
    }

    public func recordEvent(runID: Int64, kind: String, message: String) {
        eventLog.append(RunEvent(runID: runID, at: Date(), kind: kind, message: message))
    }

    public func events(runID: Int64) -> [RunEvent] { eventLog.filter { $0.runID == runID } }

    public func unresolvedQuarantine(runID: Int64, afterID: Int64, limit: Int) -> [QuarantineRecord] {
        Array(quarantined.filter { $0.runID == runID && $0.resolvedAt == nil && $0.id > afterID }.prefix(limit))
    }

    public func resolveQuarantine(ids: [Int64]) {
        let set = Set(ids)
        for index in quarantined.indices where set.contains(quarantined[index].id) {
            quarantined[index].resolvedAt = Date()
        }
    }

    public func quarantineCounts(runID: Int64) -> [String: Int] {
        quarantined.filter { $0.runID == runID && $0.resolvedAt == nil }.reduce(into: [:]) { $0[$1.errorType, default: 0] += 1 }
    }

    public func quarantine(runID: Int64, limit: Int) -> [QuarantineRecord] {
        Array(quarantined.filter { $0.runID == runID }.prefix(limit))
    }
}

private struct MemoryLedger: DeliveryLedger {
    let store: InMemoryStateStore
    let job: String

    func delivered(among ids: [String]) async throws -> Set<String> {
        await store.deliveredIDs(job: job).intersection(ids)
    }

    func record(_ ids: [String]) async throws { await store.addDelivered(job: job, ids) }

    func ids(after id: String?, limit: Int) async throws -> [String] {
        let sorted = await store.deliveredIDs(job: job).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return Array(sorted.filter { id == nil || id!.utf8.lexicographicallyPrecedes($0.utf8) }.prefix(limit))
    }
}
