/// A planned slice of a source: the unit of parallelism and checkpointing.
public struct ChunkPlan: Sendable, Hashable, Codable {
    public var index: Int
    public var range: KeyRange
    /// Rows expected in the chunk (an estimate for progress and ETA).
    public var estimatedRows: Int

    public init(index: Int, range: KeyRange, estimatedRows: Int) {
        self.index = index
        self.range = range
        self.estimatedRows = estimatedRows
    }
}

/// The source of truth: a table or an export that rows are read from in key order or file order.
public protocol Source: Sendable {
    /// The columns each row carries, in order (the spec's columns).
    var columns: [String] { get }
    /// `true` when values arrive as text (CSV/JSONL) and must be typed strictly by the target's columns.
    var valuesAreText: Bool { get }
    /// `true` when rows arrive in key order, so a batch spans the key range from its first to its last row.
    var isKeyOrdered: Bool { get }

    /// Describes the source's columns, for validation.
    /// - Throws: `BackfillError` with code `.invalidInput` when the table or file cannot be read.
    func describe() async throws -> TableDescription

    /// Checks the key can be read reliably (no NULL or duplicate keys in a table source).
    func checkKey() async throws

    /// Splits the source into chunks for `workers` workers.
    func plan(workers: Int) async throws -> [ChunkPlan]

    /// Reads up to `limit` rows of `chunk` after `cursor` (from the chunk's start when `nil`).
    func read(chunk: KeyRange, after cursor: Cursor?, limit: Int) async throws -> SourceBatch

    /// Runs a health query on the source database (`throttle.query`); see the default below.
    func probe(_ query: String) async throws -> Double

    /// A key that splits what is left of `chunk` after `cursor` in two, for work stealing: the
    /// rows before it stay with the chunk's holder, the rest becomes a new chunk. `nil` when
    /// fewer than `minimumRows` rows would be on either side, or the source cannot split (files).
    func splitPoint(of chunk: KeyRange, after cursor: Cursor?, minimumRows: Int) async throws -> SplitPoint?

    /// The current rows for `keys` (missing keys are left out), for retrying quarantined rows from
    /// the source of truth; `nil` when the source cannot look rows up by key (files).
    func fetch(keys: [[Value]]) async throws -> [[Value]]?

    /// Checks, before a run is resumed, that the chunks it has still to read can be read where
    /// their checkpoints point: for an export, that each of their parts is still the file the run
    /// planned. Tables need no check.
    /// - Throws: `BackfillError` `.invalidInput` naming what changed.
    func checkResumable(_ chunks: [KeyRange]) async throws
}

extension Source {
    /// Files cannot look rows up by key: `nil`.
    public func fetch(keys: [[Value]]) async throws -> [[Value]]? { nil }

    /// Runs a health query on the source database and returns its first value as a number
    /// (`throttle.query`). Sources without a database throw.
    /// - Throws: `BackfillError` `.invalidSpec` unless the source overrides it.
    public func probe(_ query: String) async throws -> Double {
        throw BackfillError(.invalidSpec, "this source cannot run a throttle query")
    }

    public func splitPoint(of chunk: KeyRange, after cursor: Cursor?, minimumRows: Int) async throws -> SplitPoint? { nil }

    /// Tables: nothing to check.
    public func checkResumable(_ chunks: [KeyRange]) async throws {}
}

/// Where a chunk's remaining rows split in two (`Source.splitPoint`).
public struct SplitPoint: Sendable, Hashable {
    /// The first key of the second half.
    public var key: [Value]
    /// Rows left before `key` (they stay with the holder).
    public var rowsBefore: Int
    /// Rows from `key` on, as far as the source counted them (at least this many).
    public var rowsAfter: Int

    public init(key: [Value], rowsBefore: Int, rowsAfter: Int) {
        self.key = key
        self.rowsBefore = rowsBefore
        self.rowsAfter = rowsAfter
    }
}
