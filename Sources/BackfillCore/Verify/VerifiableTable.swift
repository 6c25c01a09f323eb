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
}

/// A database table `verify` can also spot-check and query (`verify.spot-check`, `verify.queries`)
/// and read rows from by key (`--repair`).
public protocol QueryableTable: VerifiableTable, Source {
    /// `n` keys chosen at random within the spec's range.
    func randomKeys(_ n: Int) async throws -> [[Value]]
    /// A named verification query's result, every value as text.
    func queryResult(_ query: String) async throws -> [[String]]
}
