/// One side of a verification: a table that can count and checksum a key range inside its own
/// engine (no rows shipped for equal ranges), split a range, and list a small range's rows.
public protocol VerifiableTable: Sendable {
    /// Count and checksum (`RowDigest`) of the rows in `range`.
    func digest(_ range: KeyRange) async throws -> TableDigest
    /// The key at `offset` in key order within `range`, to split it.
    func key(at offset: Int, in range: KeyRange) async throws -> [Value]?
    /// The rows of `range` in key order (`range` is small: a bisection leaf).
    func rows(in range: KeyRange) async throws -> [[Value]]
    /// Up to `limit` rows of `range` after `key`, in key order (streams a large range page by page).
    func page(in range: KeyRange, after key: [Value]?, limit: Int) async throws -> [[Value]]
    /// The rows with `keys`, for spot checks (`nil` when the side cannot look rows up by key).
    func fetch(keys: [[Value]]) async throws -> [[Value]]?
    /// Up to `limit` keys of `range` after `key`, in key order, each with its row's hash computed
    /// inside the engine the way `digest` sums it (so both sides of one engine agree); `nil` when
    /// the side cannot hash rows. Lets a damaged range be compared without shipping its rows.
    func keyHashes(in range: KeyRange, after key: [Value]?, limit: Int) async throws -> [KeyHash]?
    /// Whether `keyHashes(in:after:limit:)` answers (the engine hashes rows the way `digest` sums).
    var hashesRows: Bool { get }
    /// For a single integer key: per bucket of `width` consecutive key values (`key / width`,
    /// truncated), the count and checksum of its rows in `range`, in bucket order; `nil` when the
    /// side cannot.
    func bucketDigests(in range: KeyRange, width: Int64) async throws -> [BucketDigest]?
    /// The key hashes of the rows of `buckets` in `range`, in key order.
    func keyHashes(in range: KeyRange, buckets: [Int64], width: Int64) async throws -> [KeyHash]?
}

extension VerifiableTable {
    public var hashesRows: Bool { false }
    public func keyHashes(in range: KeyRange, after key: [Value]?, limit: Int) async throws -> [KeyHash]? { nil }
    public func bucketDigests(in range: KeyRange, width: Int64) async throws -> [BucketDigest]? { nil }
    public func keyHashes(in range: KeyRange, buckets: [Int64], width: Int64) async throws -> [KeyHash]? { nil }
}

/// The count and checksum of the rows in one bucket of integer keys.
public struct BucketDigest: Sendable, Hashable {
    public var bucket: Int64
    public var digest: TableDigest

    public init(bucket: Int64, digest: TableDigest) {
        self.bucket = bucket
        self.digest = digest
    }
}

/// A key and the hash of its row.
public struct KeyHash: Sendable, Hashable {
    public var key: [Value]
    public var hash: UInt64

    public init(key: [Value], hash: UInt64) {
        self.key = key
        self.hash = hash
    }
}

/// A database table `verify` can also spot-check and query (`verify.spot-check`, `verify.queries`)
/// and read rows from by key (`--repair`).
public protocol QueryableTable: VerifiableTable, Source {
    /// `n` keys chosen at random within the spec's range.
    func randomKeys(_ n: Int) async throws -> [[Value]]
    /// A named verification query's result, every value as text.
    func queryResult(_ query: String) async throws -> [[String]]
}
