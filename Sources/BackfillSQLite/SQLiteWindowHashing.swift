import BackfillCore
import Crypto
import GRDB

/// One SQLite side of a window diff across engines (`WindowHashing`): the window's rows are read
/// inside the process (SQLite is embedded: nothing crosses a wire) and hashed as
/// `CanonicalRowEncoder` encodes them — the MD5 PostgreSQL computes for the same canonical bytes
/// (`PostgresCanonicalHashSQL`) — so only numbers, never rows, leave the other engine.
public struct SQLiteWindowHashing: WindowHashing {
    let table: SQLiteSource
    let encoder: CanonicalRowEncoder

    /// - Parameters:
    ///   - table: the source, or the target read like one, reading the job's columns.
    ///   - encoder: how its rows become bytes to hash (`CanonicalRowEncoder.source` or `.target`).
    public init(table: SQLiteSource, encoder: CanonicalRowEncoder) {
        self.table = table
        self.encoder = encoder
    }

    public func windowBounds(in range: KeyRange, after cursor: [Value]?, limit: Int) async throws -> WindowBounds {
        let sql = table.keysetSQL
        let keyList = table.key.map(Identifier.quoted).joined(separator: ", ")
        let descending = table.key.map { Identifier.quoted($0) + " DESC" }.joined(separator: ", ")
        let (conditions, arguments) = sql.conditions(range: range, after: cursor)
        return try await table.readVerifying { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(keyList) FROM \(sql.quotedTable)\(conditions)\(sql.orderBy) LIMIT 2 OFFSET ?",
                arguments: StatementArguments(values: arguments + [.integer(Int64(max(0, limit - 1)))]))
            if let first = rows.first { return WindowBounds(last: first.values, next: rows.count > 1 ? rows[1].values : nil) }
            let last = try Row.fetchOne(
                db, sql: "SELECT \(keyList) FROM \(sql.quotedTable)\(conditions) ORDER BY \(descending) LIMIT 1",
                arguments: StatementArguments(values: arguments))
            return WindowBounds(last: last?.values, next: nil)
        }
    }

    public func bucketDigests(in window: KeyRange, after cursor: [Value]?, buckets: Int) async throws -> [Int64: TableDigest] {
        // One bucket (a whole chunk compared at once): no key is hashed.
        try await eachHashedRow(in: window, after: cursor, hashingKeys: buckets > 1, into: [Int64: TableDigest]()) { digests, row in
            let bucket = RowHash.bucket(of: row.keyHash, among: buckets)
            digests[bucket, default: TableDigest()].count += 1
            digests[bucket, default: TableDigest()].sum &+= row.hash
        }
    }

    public func rowHashes(in window: KeyRange, after cursor: [Value]?, buckets: Int, among: [Int64]) async throws -> [RowHash] {
        let wanted = Set(among)
        return try await eachHashedRow(in: window, after: cursor, hashingKeys: true, into: [RowHash]()) { hashes, row in
            if wanted.contains(RowHash.bucket(of: row.keyHash, among: buckets)) { hashes.append(row) }
        }
    }

    /// Folds every row of the window, with its hashes, in key order into `initial` (streamed: a
    /// whole chunk compared at once is never held in memory). Without `hashingKeys` every key hash is 0.
    private func eachHashedRow<Result: Sendable>(
        in window: KeyRange, after cursor: [Value]?, hashingKeys: Bool, into initial: Result,
        _ fold: @escaping @Sendable (inout Result, RowHash) -> Void
    ) async throws -> Result {
        let sql = table.keysetSQL
        let (conditions, arguments) = sql.conditions(range: window, after: cursor)
        let encoder = self.encoder
        return try await table.readVerifying { db in
            let statement = try db.cachedStatement(sql: "SELECT \(sql.selectList) FROM \(sql.quotedTable)\(conditions)\(sql.orderBy)")
            let rows = try Row.fetchCursor(statement, arguments: StatementArguments(values: arguments))
            var result = initial
            while let row = try rows.next() {
                let values = row.values
                let bytes = encoder.encode(values)
                let keyHash = hashingKeys ? Self.hash(bytes.key) : 0
                fold(&result, RowHash(key: encoder.keyIndices.map { values[$0] }, keyHash: keyHash, hash: Self.hash(bytes.row)))
            }
            return result
        }
    }

    /// The first 8 bytes of the MD5 of `bytes`, most significant first (PostgreSQL's
    /// `('x' || left(md5(…), 16))::bit(64)::bigint`).
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        Insecure.MD5.hash(data: bytes).withUnsafeBytes { digest in
            digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
    }
}
