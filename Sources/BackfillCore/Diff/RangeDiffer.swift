/// Finds, inside both engines, which rows of a window of the source the target lacks or holds
/// differently — shipping counts, sums and key hashes, never rows.
///
/// The runner asks for every batch of a chunk not settled as a whole (`RangeComparer`): the
/// window is the batch (up to `limit` source rows after the cursor); buckets of its keys are
/// counted and checksummed on both sides, the keys of differing buckets are hashed on both sides,
/// and only the source rows whose hashes differ are then read and written through the normal
/// write path. A window the target mostly lacks (a gap) is not descended: it is read directly.
public protocol RangeDiffer: Sendable {
    /// The difference of the window of up to `limit` source rows after `cursor` in `range`.
    func diff(in range: KeyRange, after cursor: Cursor?, limit: Int) async throws -> WindowDiff

    /// Whether a chunk's first window costs little next to comparing the whole chunk at once (both
    /// sides hash inside their servers), so that the rest of a chunk is bet on being equal only
    /// after a window found it so (`ChunkProgress.mayCompareRest`). Where a side hashes in this
    /// process (SQLite), a window costs more than its share of the chunk's comparison (the
    /// SQLite ↔ PostgreSQL rerun took 0.6–1.3 s longer window first): the chunk is compared first.
    var windowsFirst: Bool { get }
}

extension RangeDiffer {
    public var windowsFirst: Bool { false }
}

/// What a `RangeDiffer` found in one window.
public struct WindowDiff: Sendable, Hashable {
    /// Source rows in the window.
    public var sourceRows: Int
    /// Target rows in the window.
    public var targetRows: Int
    /// The window's last source key: the batch's cursor (`nil`: the window is empty).
    public var lastKey: [Value]?
    /// The window reaches the end of the range.
    public var isLast: Bool
    /// The keys of source rows the target lacks or holds differently, in key order; `nil` when the
    /// window was not descended (the target lacks most of it): read it directly.
    public var differingKeys: [[Value]]?
    /// What each side sent to find the difference (the window's bounds, bucket counts and
    /// checksums, row hashes: 8 bytes a number), for `Counters.sourceHashBytes` and `targetHashBytes`.
    public var sourceBytes = 0
    public var targetBytes = 0

    public init(sourceRows: Int, targetRows: Int, lastKey: [Value]?, isLast: Bool, differingKeys: [[Value]]?) {
        self.sourceRows = sourceRows
        self.targetRows = targetRows
        self.lastKey = lastKey
        self.isLast = isLast
        self.differingKeys = differingKeys
    }
}
