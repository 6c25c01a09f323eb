import BackfillCore
import PostgresNIO

/// `verify` between two PostgreSQL tables: each range is counted and checksummed inside its server
/// with PostgreSQL's own type-aware hash (`hash_record_extended`), so equal ranges ship no rows.
/// Both sides hash the same way only when their column types are the same; when they are not, the
/// checksums differ, bisection reaches small ranges and the rows themselves are compared — slower,
/// never wrong.
extension PostgresSource: QueryableTable {
    /// How each of the columns this source reads compares across engines.
    public func canonicalKinds() async throws -> [CanonicalKind] {
        try await tableInfo().types(of: columns).map(\.canonicalKind)
    }

    public func digest(_ range: KeyRange) async throws -> TableDigest {
        let sql = try keysetSQL()
        let rowHash = try await tableInfo().rowHash(of: columns)
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range, after: nil, binds: &binds)
        let query = PostgresQuery(
            unsafeSQL: "SELECT count(*)::text, \(Self.foldedSum(rowHash)) FROM \(sql.quotedTable)\(filter)", binds: binds)
        let result = try await database.textRows(query, "verifying").first ?? []
        let count = result.first.flatMap { $0 }.flatMap { Int($0) } ?? 0
        let sum = (result.count > 1 ? result[1] : nil).flatMap { UInt64($0) } ?? 0
        return TableDigest(count: count, sum: sum)
    }

    /// `SELECT`able: the sum of 64-bit `hash`es folded into 0..<2^64 (to fit `TableDigest`), as text.
    static func foldedSum(_ hash: String) -> String {
        "((coalesce(sum(\(hash)), 0) % 18446744073709551616 + 18446744073709551616) % 18446744073709551616)::text"
    }

    public var hashesRows: Bool { true }

    public func keyHashes(in range: KeyRange, after key: [BackfillCore.Value]?, limit: Int) async throws -> [KeyHash]? {
        let sql = try keysetSQL()
        let info = try await tableInfo()
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range, after: key, binds: &binds)
        let orderAndLimit = " ORDER BY \(sql.orderBy) LIMIT \(max(1, limit))"
        if integerKey(info) {
            return try await integerKeyHashes(
                "SELECT \(Identifier.quoted(self.key[0]))::int8 AS k, \(info.rowHash(of: columns)) AS h FROM \(sql.quotedTable)\(filter)"
                    + orderAndLimit,
                binds: binds)
        }
        let query = PostgresQuery(
            unsafeSQL: "SELECT \(PostgresKeysetSQL.textList(self.key)), \(info.rowHash(of: columns)) FROM \(sql.quotedTable)\(filter)" + orderAndLimit,
            binds: binds)
        let (keyColumns, logger) = (self.key, database.logger)
        return try await database.withConnection("verifying") { connection in
            var hashes: [KeyHash] = []
            hashes.reserveCapacity(limit)
            for try await row in try await connection.checkedQuery(query, logger: logger) {
                var texts: [String?] = []
                var hash: Int64 = 0
                for (index, cell) in row.enumerated() {
                    if index < keyColumns.count {
                        texts.append(cell.bytes.map { String(buffer: $0) })
                    } else {
                        hash = try cell.decode(Int64.self)
                    }
                }
                hashes.append(KeyHash(key: info.values(fromText: texts, of: keyColumns), hash: UInt64(bitPattern: hash)))
            }
            return hashes
        }
    }

    /// The `(k int8, h int8)` rows of `sql`, in key order, shipped packed (`PostgresPackedPairs`).
    private func integerKeyHashes(_ sql: String, binds: PostgresBindings) async throws -> [KeyHash] {
        let query = PostgresQuery(unsafeSQL: "SELECT \(PostgresPackedPairs.aggregate("k", "h", orderBy: "k")) FROM (\(sql)) s", binds: binds)
        return try await PostgresPackedPairs.read(query, on: database, "verifying").map { key, hash in
            KeyHash(key: [.integer(Int64(bitPattern: key))], hash: hash)
        }
    }

    /// Whether the key is one integer column (the key `bucketDigests` can bucket).
    private func integerKey(_ info: PostgresTableInfo) -> Bool {
        key.count == 1 && info.type(of: key[0])?.representation == .integer
    }

    public func bucketDigests(in range: KeyRange, width: Int64) async throws -> [BucketDigest]? {
        let info = try await tableInfo()
        guard integerKey(info) else { return nil }
        let sql = try keysetSQL()
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range, after: nil, binds: &binds)
        let bucket = "(\(Identifier.quoted(key[0]))::int8 / \(width))"
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT \(bucket), count(*), \(Self.foldedSum(info.rowHash(of: columns)))
                FROM \(sql.quotedTable)\(filter) GROUP BY 1 ORDER BY 1
                """, binds: binds)
        let logger = database.logger
        return try await database.withConnection("verifying") { connection in
            var buckets: [BucketDigest] = []
            for try await row in try await connection.checkedQuery(query, logger: logger) {
                let (bucket, count, sum) = try row.decode((Int64, Int64, String).self)
                buckets.append(BucketDigest(bucket: bucket, digest: TableDigest(count: Int(count), sum: UInt64(sum) ?? 0)))
            }
            return buckets
        }
    }

    public func keyHashes(in range: KeyRange, buckets: [Int64], width: Int64) async throws -> [KeyHash]? {
        let info = try await tableInfo()
        guard integerKey(info) else { return nil }
        let sql = try keysetSQL()
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range, after: nil, binds: &binds)
        binds.append(buckets)
        let first = Identifier.quoted(key[0])
        let inBuckets = "(\(first)::int8 / \(width)) = ANY($\(binds.count))"
        return try await integerKeyHashes(
            """
            SELECT \(first)::int8 AS k, \(info.rowHash(of: columns)) AS h FROM \(sql.quotedTable)
            \(filter.isEmpty ? " WHERE " : filter + " AND ")\(inBuckets)
            """, binds: binds)
    }

    public func key(at offset: Int, in range: KeyRange) async throws -> [BackfillCore.Value]? {
        let sql = try keysetSQL()
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range, after: nil, binds: &binds)
        let query = PostgresQuery(
            unsafeSQL: "SELECT \(PostgresKeysetSQL.textList(key)) FROM \(sql.quotedTable)\(filter) ORDER BY \(sql.orderBy) OFFSET \(max(0, offset)) LIMIT 1",
            binds: binds)
        guard let row = try await database.textRows(query, "splitting a range").first else { return nil }
        return try await tableInfo().values(fromText: row, of: key)
    }

    public func rows(in range: KeyRange) async throws -> [[BackfillCore.Value]] {
        let sql = try keysetSQL()
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range, after: nil, binds: &binds)
        return try await typedRows(
            PostgresQuery(unsafeSQL: "SELECT \(sql.selectList) FROM \(sql.quotedTable)\(filter) ORDER BY \(sql.orderBy)", binds: binds),
            "verifying")
    }

    public func page(in range: KeyRange, after key: [BackfillCore.Value]?, limit: Int) async throws -> [[BackfillCore.Value]] {
        try await read(chunk: range, after: key.map { BackfillCore.Cursor(key: $0) }, limit: limit).rows
    }

    public func randomKeys(_ n: Int) async throws -> [[BackfillCore.Value]] {
        let sql = try keysetSQL()
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range.keyRange, after: nil, binds: &binds)
        let keyList = PostgresKeysetSQL.textList(key)
        let info = try await tableInfo()
        let rows = try await database.textRows(
            PostgresQuery(unsafeSQL: "SELECT \(keyList) FROM \(sql.quotedTable)\(filter) ORDER BY random() LIMIT \(max(0, n))", binds: binds),
            "choosing keys to spot-check")
        return rows.map { info.values(fromText: $0, of: key) }
    }

    public func queryResult(_ query: String) async throws -> [[String]] {
        try await database.textRows(PostgresQuery(unsafeSQL: "SELECT q::text FROM (\(query)) q"), "running a verify query")
            .map { row in row.map { $0 ?? "NULL" } }
    }
}

extension PostgresSource: VerifySide {
    /// Text keys in byte order (`COLLATE "C"`), the order verify merges both sides in.
    public func comparing(_ columns: [String]) async throws -> any VerifySide {
        try await selecting(columns).inKeyByteOrder()
    }

    /// PostgreSQL parses values into its own types and prints them its own way.
    public func canonicalKindsAcrossEngines() async throws -> [CanonicalKind]? { try await canonicalKinds() }
}
