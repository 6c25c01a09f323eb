/// One side of a window diff: a table that counts and checksums a window of its keys per bucket,
/// and hashes the rows of chosen buckets, inside its own engine — shipping numbers, never rows.
///
/// Both sides of a `BucketRangeDiffer` must hash alike: the same bucket for the same key and the
/// same row hash for rows the run would leave unchanged (PostgreSQL's own type-aware hash between
/// two PostgreSQL tables; the canonical row encoding, `CanonicalRowEncoding`, across engines).
/// Rows hashed alike by mistake would never be repaired, so where a side cannot be sure it hashes
/// a value as the other would, it must hash it so that it never matches.
public protocol WindowHashing: Sendable {
    /// The last key of the first `limit` rows after `cursor` in `range`, in this side's key order,
    /// and the key after it (`nil` when the window reaches the end of the range). Asked of the
    /// source side only: its order is the one the run reads in.
    func windowBounds(in range: KeyRange, after cursor: [Value]?, limit: Int) async throws -> WindowBounds
    /// Per bucket (`keyHash % buckets`, truncated), the count and wrapping sum of the row hashes of
    /// the rows in `window` after `cursor`.
    func bucketDigests(in window: KeyRange, after cursor: [Value]?, buckets: Int) async throws -> [Int64: TableDigest]
    /// Each row of the buckets `among` in `window` after `cursor`: its key's hash and its row hash,
    /// and its key where the side holds it anyway (an embedded engine). A server side ships only
    /// the two numbers per row, in any order: the few keys that differ are asked for afterwards
    /// (`keys(of:in:after:)`).
    func rowHashes(in window: KeyRange, after cursor: [Value]?, buckets: Int, among: [Int64]) async throws -> [RowHash]
    /// The keys of `rows` (some of this side's `rowHashes` for the same window), in key order.
    /// Asked of the source side only, for the rows that differ.
    func keys(of rows: [RowHash], in window: KeyRange, after cursor: [Value]?) async throws -> [[Value]]
    /// The side hashes inside a database server (not in this process).
    var hashesInServer: Bool { get }
}

extension WindowHashing {
    /// The keys `rowHashes` returned with the rows, for a side that returns every key.
    public func keys(of rows: [RowHash], in window: KeyRange, after cursor: [Value]?) async throws -> [[Value]] {
        rows.compactMap(\.key)
    }

    public var hashesInServer: Bool { false }
}

/// The ends of one window of a chunk (`WindowHashing.windowBounds`).
public struct WindowBounds: Sendable, Hashable {
    /// The window's last key; `nil` when nothing is left after the cursor.
    public var last: [Value]?
    /// The first key after the window; `nil` when the window reaches the range's end.
    public var next: [Value]?

    public init(last: [Value]?, next: [Value]?) {
        self.last = last
        self.next = next
    }
}

/// A row as a window diff sees it: the hash of its key (which pairs it with the other side's
/// row), the hash of the whole row and, where the side returns it, its key (in the side's own
/// values, to read it by).
public struct RowHash: Sendable, Hashable {
    public var key: [Value]?
    public var keyHash: UInt64
    public var hash: UInt64

    public init(key: [Value]?, keyHash: UInt64, hash: UInt64) {
        self.key = key
        self.keyHash = keyHash
        self.hash = hash
    }

    /// The bucket of a key hash among `buckets`: the remainder of the signed hash, truncated, as
    /// PostgreSQL's and SQLite's `%` compute it.
    public static func bucket(of keyHash: UInt64, among buckets: Int) -> Int64 {
        Int64(bitPattern: keyHash) % Int64(max(1, buckets))
    }
}
