/// How many rows of a batch a sink inserted, updated, found unchanged or skipped.
public struct WriteOutcome: Sendable, Hashable, Codable {
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    /// Rows a guard kept from being written (`newer-wins`, or the mode).
    public var skipped = 0
    /// Requests the sink retried inside the write (a webhook's retried deliveries); the run counts
    /// them with its own retries. Not a row count.
    public var retries = 0

    enum CodingKeys: String, CodingKey {
        case inserted, updated, unchanged, skipped
    }

    public init(inserted: Int = 0, updated: Int = 0, unchanged: Int = 0, skipped: Int = 0, retries: Int = 0) {
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
        self.skipped = skipped
        self.retries = retries
    }

    public var total: Int { inserted + updated + unchanged + skipped }

    public static func + (lhs: WriteOutcome, rhs: WriteOutcome) -> WriteOutcome {
        WriteOutcome(
            inserted: lhs.inserted + rhs.inserted,
            updated: lhs.updated + rhs.updated,
            unchanged: lhs.unchanged + rhs.unchanged,
            skipped: lhs.skipped + rhs.skipped,
            retries: lhs.retries + rhs.retries
        )
    }
}

/// A target that rows are written to idempotently.
public protocol Sink: Sendable {
    /// Describes the target table, for validation and typing.
    /// - Throws: `BackfillError` with code `.invalidInput` when the target cannot be opened.
    func describe() async throws -> TableDescription

    /// Writes `rows` (aligned with the spec's columns, already typed for the target) in one
    /// transaction, touching only rows that differ, and reports what it did.
    ///
    /// With `dryRun` the same comparison runs and nothing is written.
    /// - Parameter keyOrdered: the rows are sorted by key, so the sink may read the target by range.
    /// - Throws: `BackfillError`; `.kind == .data` when a row violates a constraint of the target.
    func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome

    /// This sink for the writes of `run` (a journaling sink tags its entries with it); by default
    /// the sink itself.
    func forRun(_ run: RunRecord) -> any Sink
}

extension Sink {
    public func forRun(_ run: RunRecord) -> any Sink { self }
}

/// A target that can delete rows by key (`verify --repair --delete-extra`).
public protocol DeletingSink: Sink {
    /// Deletes the rows with `keys` and returns how many were deleted.
    func delete(keys: [[Value]]) async throws -> Int

    /// This sink for the deletes of `run` (see `Sink.forRun`); by default the sink itself.
    func deleting(for run: RunRecord) -> any DeletingSink
}

extension DeletingSink {
    public func deleting(for run: RunRecord) -> any DeletingSink { self }
}

/// A target in the same database as the run's state store, which commits a batch's checkpoint in
/// the transaction that writes the batch's rows (exactly once): a crash can never leave rows
/// written but not counted, and a retried commit can never count them twice.
public protocol CheckpointingSink: Sendable {
    /// Writes `rows` like `Sink.write` and, before committing, `checkpoint.with(outcome)` — the
    /// checkpoint with the write's outcome in its counters (it carries a `CheckpointFence`).
    /// - Returns: the checkpoint committed; `nil` when an earlier attempt of the same checkpoint
    ///   had already committed (its rows and counters stand, and this attempt rolled back).
    /// - Throws: `BackfillError` as `Sink.write` does; `.stateStore` when the fence refuses the checkpoint.
    func write(_ rows: [[Value]], keyOrdered: Bool, checkpoint: Checkpoint) async throws -> Checkpoint?

    /// This sink for the writes of `run` (see `Sink.forRun`).
    func forRun(_ run: RunRecord) -> any CheckpointingSink
}

extension CheckpointingSink {
    public func forRun(_ run: RunRecord) -> any CheckpointingSink { self }
}
