import Foundation

/// One execution of a job, as stored in the state store.
public struct RunRecord: Sendable, Codable, Hashable {
    public var id: Int64
    public var job: String
    /// A fingerprint of the spec fields that decide which rows a run touches.
    public var specFingerprint: String
    public var status: RunStatus
    /// Why the run is paused, failed or cancelled.
    public var reason: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
    /// Wall-clock seconds with a batch in flight, over every execution of the run.
    public var activeSeconds: Double
    /// Wall-clock seconds the run waited: paused, outside its window, throttled, held by the pause file.
    public var waits = WaitTimes()
    /// The batch size of the latest batch (it adapts with `batch.target-duration`).
    public var batchSize: Int?
    public var counters: Counters
    public var chunksTotal: Int
    public var chunksDone: Int

    /// The budget or health signal holding the run back now: only a running run has one.
    public var binding: WaitTimes.Binding? {
        guard status == .running, let binding = waits.binding, binding.signal != nil else { return nil }
        return binding
    }

    /// Rows read per working second (waits not counted; 0 before any work).
    public var rowsPerWorkingSecond: Double { activeSeconds > 0 ? Double(counters.read) / activeSeconds : 0 }
    public var estimatedRows: Int
    /// The process executing the run (`host:pid`), while it runs.
    public var owner: String?
    /// Settings changed while running (`backfill set`).
    public var knobs = RunKnobs()
    /// The last `backfill verify` of the run's job after it.
    public var lastVerification: VerificationSummary?

    public init(
        id: Int64, job: String, specFingerprint: String, status: RunStatus, reason: String? = nil,
        createdAt: Date, updatedAt: Date, finishedAt: Date? = nil, activeSeconds: Double = 0,
        counters: Counters = Counters(), chunksTotal: Int, chunksDone: Int = 0, estimatedRows: Int,
        owner: String? = nil
    ) {
        self.id = id
        self.job = job
        self.specFingerprint = specFingerprint
        self.status = status
        self.reason = reason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
        self.activeSeconds = activeSeconds
        self.counters = counters
        self.chunksTotal = chunksTotal
        self.chunksDone = chunksDone
        self.estimatedRows = estimatedRows
        self.owner = owner
    }
}

/// One chunk of a run with its cursor and counters.
public struct ChunkRecord: Sendable, Codable, Hashable {
    public var id: Int64
    public var runID: Int64
    public var index: Int
    public var range: KeyRange
    public var estimatedRows: Int
    public var status: ChunkStatus
    public var cursor: Cursor?
    public var counters: Counters
    /// Bumped by every claim and every checkpoint of the chunk: the generation a
    /// `CheckpointFence` names. Stores that do not lease chunks (SQLite, in memory) leave it 0.
    public var generation = 0

    public init(
        id: Int64, runID: Int64, index: Int, range: KeyRange, estimatedRows: Int,
        status: ChunkStatus, cursor: Cursor?, counters: Counters
    ) {
        self.id = id
        self.runID = runID
        self.index = index
        self.range = range
        self.estimatedRows = estimatedRows
        self.status = status
        self.cursor = cursor
        self.counters = counters
    }
}

/// A row kept out of the target with the reason, never silently dropped.
public struct QuarantineRecord: Sendable, Codable, Hashable {
    /// The state store's id (0 before it is stored).
    public var id: Int64 = 0
    public var runID: Int64
    public var chunkIndex: Int
    public var key: [Value]?
    public var line: Int?
    /// `data` for bad rows, or the error code of a write the target refused.
    public var errorType: String
    public var reason: String
    /// The row's values, or the raw record for unparseable lines.
    public var row: [Value]?
    public var raw: String?
    public var at: Date
    /// When a `--retry-quarantined` run wrote the row after all.
    public var resolvedAt: Date? = nil

    public init(
        runID: Int64, chunkIndex: Int, key: [Value]?, line: Int?, errorType: String, reason: String,
        row: [Value]?, raw: String?, at: Date
    ) {
        self.runID = runID
        self.chunkIndex = chunkIndex
        self.key = key
        self.line = line
        self.errorType = errorType
        self.reason = reason
        self.row = row
        self.raw = raw
        self.at = at
    }
}

/// An entry of a run's event log.
public struct RunEvent: Sendable, Codable, Hashable {
    public var runID: Int64
    public var at: Date
    public var kind: String
    public var message: String

    public init(runID: Int64, at: Date, kind: String, message: String) {
        self.runID = runID
        self.at = at
        self.kind = kind
        self.message = message
    }
}

/// What a worker commits after a batch was written: the new cursor and counter deltas.
public struct Checkpoint: Sendable {
    public var runID: Int64
    public var chunkID: Int64
    public var cursor: Cursor?
    public var delta: Counters
    public var chunkDone: Bool
    public var quarantine: [QuarantineRecord]
    public var activeSeconds: Double
    public var waits = WaitTimes()
    public var batchSize: Int?
    /// Makes the checkpoint conditional on the chunk not having moved since the batch began.
    public var fence: CheckpointFence?

    public init(
        runID: Int64, chunkID: Int64, cursor: Cursor?, delta: Counters, chunkDone: Bool,
        quarantine: [QuarantineRecord], activeSeconds: Double
    ) {
        self.runID = runID
        self.chunkID = chunkID
        self.cursor = cursor
        self.delta = delta
        self.chunkDone = chunkDone
        self.quarantine = quarantine
        self.activeSeconds = activeSeconds
    }
}

/// The condition a checkpoint commits under, in stores several processes share (PostgreSQL).
///
/// A checkpoint applies only when the chunk is still at `generation` (every claim and every
/// checkpoint bumps it), and records `token`. A retry of a checkpoint whose commit went through
/// but whose reply was lost finds its own token and is a no-op, so counters never count a batch
/// twice; a checkpoint from a process whose lease expired and was taken over is refused.
public struct CheckpointFence: Sendable, Hashable {
    /// `ChunkRecord.generation` when the batch began.
    public var generation: Int
    /// Unique per checkpoint.
    public var token: String

    public init(generation: Int, token: String = UUID().uuidString) {
        self.generation = generation
        self.token = token
    }
}

/// A request to create a run with its planned chunks.
public struct NewRun: Sendable {
    public var job: String
    public var specFingerprint: String
    public var chunks: [ChunkPlan]
    public var owner: String?
    /// The spec's text (`LoadedSpec.storable`), kept by stores that `backfill worker --run` reads.
    public var spec: String?

    public init(job: String, specFingerprint: String, chunks: [ChunkPlan], owner: String?) {
        self.job = job
        self.specFingerprint = specFingerprint
        self.chunks = chunks
        self.owner = owner
    }
}
