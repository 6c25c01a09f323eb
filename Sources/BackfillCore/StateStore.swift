/// Where runs, chunks, cursors, counters, quarantine and events live: the composition of the
/// focused stores below, each of which an adapter implements for its engine.
///
/// Every method is one transaction. Implementations: SQLite (the default, embedded), PostgreSQL
/// (runs shared between processes and machines, with leased chunks) and in memory (dry runs, tests).
public protocol StateStore: RunStore, ChunkStore, QuarantineStore, TelemetryStore, LedgerStore {}

/// A run's status and knobs: what its workers obey before each batch.
public struct RunDirectives: Sendable, Hashable {
    public var status: RunStatus
    public var knobs: RunKnobs

    public init(status: RunStatus, knobs: RunKnobs) {
        self.status = status
        self.knobs = knobs
    }
}

extension RunStore {
    public func directives(runID: Int64) async throws -> RunDirectives? {
        try await run(id: runID).map { RunDirectives(status: $0.status, knobs: $0.knobs) }
    }
}

/// Runs: their creation, status, knobs and events.
public protocol RunStore: Sendable {
    /// Creates a run in status `running` with all its chunks pending.
    func createRun(_ new: NewRun) async throws -> RunRecord
    /// Creates the run unless the job already has one `lookup` finds, which is returned instead;
    /// atomically, so that processes starting together create one run between them.
    func createRun(_ new: NewRun, unlessFound lookup: ExistingRun) async throws -> (run: RunRecord, created: Bool)
    /// The newest run of `job` whose status is resumable, if any.
    func latestResumableRun(job: String) async throws -> RunRecord?
    /// The run of `job` a worker joins: its resumable run if it has one, else its newest run of any status.
    func newestRun(job: String) async throws -> RunRecord?
    func run(id: Int64) async throws -> RunRecord?
    /// What a worker reads before every batch: the run's status and knobs (`nil`: no such run).
    /// Stores answer it with one small query; the default reads the whole run.
    func directives(runID: Int64) async throws -> RunDirectives?
    /// Runs, newest first.
    func runs(limit: Int) async throws -> [RunRecord]
    /// The spec text stored with a run (`NewRun.spec`), if the store keeps it.
    func specText(runID: Int64) async throws -> String?
    /// Marks the run `running` for `owner` and returns every chunk left `running` by a crashed
    /// process to `pending`, keeping its cursor — only if the run's owner is still `previous` and
    /// the run is `planned` or `running` (compare-and-set: of two processes taking over one run,
    /// one wins). Returns whether this process took it over.
    func takeOver(runID: Int64, owner: String, replacing previous: String?) async throws -> Bool
    /// Sets a run's status (and why); terminal statuses record the finish time.
    func setStatus(runID: Int64, _ status: RunStatus, reason: String?) async throws
    /// Sets a run's status only if it is one of `from` (compare-and-set, so that a concurrent
    /// `pause` or `cancel` is never overwritten); returns whether it changed it. Status changes
    /// come from a `RunStateMachine` through `apply(_:runID:)`.
    func transition(runID: Int64, from: Set<RunStatus>, to status: RunStatus, reason: String?) async throws -> Bool
    /// Says why a running run waits (`nil`: it no longer waits); leaves any other status alone, so a
    /// concurrent `pause` or `cancel` is never overwritten.
    func setWaitingReason(runID: Int64, _ reason: String?) async throws
    /// Stores the knobs workers apply before their next batch.
    func setKnobs(runID: Int64, _ knobs: RunKnobs) async throws
    func recordEvent(runID: Int64, kind: String, message: String) async throws
    func events(runID: Int64) async throws -> [RunEvent]
    /// Records a verification on the run it checked.
    func recordVerification(runID: Int64, _ summary: VerificationSummary) async throws
}

/// Chunks: claims, checkpoints and — in stores several processes share — leases and work stealing.
public protocol ChunkStore: Sendable {
    func chunks(runID: Int64) async throws -> [ChunkRecord]
    /// Atomically claims the next pending chunk of the run, or returns `nil` when none is left.
    func claimChunk(runID: Int64) async throws -> ChunkRecord?
    /// Returns a claimed chunk to `pending` (on pause or shutdown) without changing its cursor.
    func releaseChunk(id: Int64) async throws
    /// Commits a batch's cursor, counters and quarantined rows in one transaction.
    ///
    /// Stores that lease chunks apply a checkpoint with a `CheckpointFence` only from its
    /// generation: a repeat of the same checkpoint is a no-op, a stale one throws `.leaseLost`.
    func checkpoint(_ checkpoint: Checkpoint) async throws
    /// Whether chunks are leased to processes (stores several processes share): claims take
    /// pending chunks and ones whose lease expired, `heartbeat` keeps this process's leases, and
    /// `checkpoint` honours `Checkpoint.fence`.
    var leasesChunks: Bool { get }
    /// Extends the leases this process holds on chunks of the run.
    func heartbeat(runID: Int64) async throws
    /// Work stealing, in stores that lease chunks: asks the holder of the running chunk with the
    /// most rows left (at least `minimumRows`) to split it. Returns whether such a chunk exists.
    func requestSplit(runID: Int64, minimumRows: Int) async throws -> Bool
    /// Whether another process asked for a split of this chunk.
    func splitRequested(chunkID: Int64) async throws -> Bool
    /// The holder's answer to a request: the chunk keeps `[its lower bound, point.key)`, and a new
    /// pending chunk `[point.key, its upper bound)` is added to the run; without a point the
    /// request is just cleared. Fenced like a checkpoint.
    /// - Returns: the chunk as it is now (range, generation).
    /// - Throws: `.leaseLost` when the chunk moved to another process.
    func split(chunkID: Int64, generation: Int, at point: SplitPoint?) async throws -> ChunkRecord
}

/// Rows a run could not write, with why.
public protocol QuarantineStore: Sendable {
    func quarantine(runID: Int64, limit: Int) async throws -> [QuarantineRecord]
    /// Quarantined rows of a run not resolved yet, oldest first, after `afterID`.
    func unresolvedQuarantine(runID: Int64, afterID: Int64, limit: Int) async throws -> [QuarantineRecord]
    /// Marks quarantined rows as written after all.
    func resolveQuarantine(ids: [Int64]) async throws
    /// Quarantined rows of a run by error type (`data`, `write`).
    func quarantineCounts(runID: Int64) async throws -> [String: Int]
}

/// A run's time series and time accounting: what `report` and the dashboard chart.
public protocol TelemetryStore: Sendable {
    /// Adds working and waiting seconds not yet carried by a checkpoint (at the end of an execution).
    func addTime(runID: Int64, activeSeconds: Double, waits: WaitTimes) async throws
    /// Records the run's totals as they are now (`RunSample`): the points of its time series.
    func recordSample(runID: Int64) async throws
    /// The run's samples, oldest first: the newest `limit` of them.
    func samples(runID: Int64, limit: Int) async throws -> [RunSample]
}

/// Event replay's record of what was delivered.
public protocol LedgerStore: Sendable {
    /// The ledger of events delivered by runs of `job` (event replay).
    func ledger(job: String) -> any DeliveryLedger
}

extension ChunkStore {
    /// One process owns a local store's run, and its commits are never in doubt: no leases.
    public var leasesChunks: Bool { false }

    public func heartbeat(runID: Int64) async throws {}

    public func requestSplit(runID: Int64, minimumRows: Int) async throws -> Bool { false }

    public func splitRequested(chunkID: Int64) async throws -> Bool { false }

    public func split(chunkID: Int64, generation: Int, at point: SplitPoint?) async throws -> ChunkRecord {
        throw BackfillError(.stateStore, "this state store does not split chunks")
    }
}

extension RunStore {
    /// One process at a time uses a local store: no lock needed.
    public func createRun(_ new: NewRun, unlessFound lookup: ExistingRun) async throws -> (run: RunRecord, created: Bool) {
        if let existing = try await find(lookup, job: new.job) { return (existing, false) }
        return (try await createRun(new), true)
    }

    /// The run of `job` that `lookup` asks for.
    public func find(_ lookup: ExistingRun, job: String) async throws -> RunRecord? {
        switch lookup {
        case .resumable: return try await latestResumableRun(job: job)
        case .newest: return try await newestRun(job: job)
        }
    }

    public func specText(runID: Int64) async throws -> String? { nil }
}

/// Which existing run of a job stops `createRun(_:unlessFound:)` from creating one.
public enum ExistingRun: Sendable {
    /// An unfinished run (`backfill run` resumes it).
    case resumable
    /// Any run, finished or not (`backfill worker` joins it, or finds the job done).
    case newest
}
