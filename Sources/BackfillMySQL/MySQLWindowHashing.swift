import BackfillCore

/// One MySQL side of a window diff (`WindowHashing`) between two MySQL tables that declare the
/// same types for the job's columns: windows of keys counted, checksummed and hashed inside the
/// server (`MySQLRowHashSQL`), so that a run reads only the source rows that differ.
public struct MySQLWindowHashing: WindowHashing {
    public var hashesInServer: Bool { true }

    let database: MySQLDatabase
    let sql: MySQLKeysetSQL
    let key: [String]
    let keyTypes: [MySQLColumnType]
    /// `BIGINT UNSIGNED` SQL: the hash of a row.
    let rowHash: String
    /// SQL: the hash of a row's key, which picks its bucket (`BIGINT`: the key itself for a signed
    /// integer key, otherwise `BIGINT UNSIGNED`).
    let keyHash: String
    /// The key is one signed integer column standing for its own hash: no second scan asks for
    /// the keys that differ.
    let keyIsItsHash: Bool

    /// Both sides of a job between two MySQL tables; `nil` when the tables declare different types
    /// for the job's columns (equal values would hash apart, and every row would be read anyway).
    public static func pair(source: MySQLSource, target: MySQLSink, job: ResolvedJob) async throws -> (
        source: MySQLWindowHashing, target: MySQLWindowHashing
    )? {
        let sourceInfo = try await source.tableInfo()
        let targetInfo = try await MySQLTableInfo.read(target.table, in: target.database)
        for column in job.columns {
            guard let type = sourceInfo.type(of: column), type == targetInfo.type(of: column) else { return nil }
        }
        let key = job.keyIndices.map { job.columns[$0] }
        let keyTypes = sourceInfo.types(of: key)
        let rowHash = MySQLRowHashSQL.rowHash(job.columns, types: sourceInfo.types(of: job.columns))
        let integerKey = key.count == 1 && keyTypes[0].representation == .integer && keyTypes[0].affinity == .integer
        let keyHash = integerKey ? MySQLSQL.quoted(key[0]) : MySQLRowHashSQL.rowHash(key, types: keyTypes)
        let side = { (database: MySQLDatabase, table: String) in
            MySQLWindowHashing(
                database: database, sql: MySQLKeysetSQL(table: table, columns: key, key: key, keyTypes: keyTypes, whereClause: nil),
                key: key, keyTypes: keyTypes, rowHash: rowHash, keyHash: keyHash, keyIsItsHash: integerKey)
        }
        return (side(source.database, source.table), side(target.database, target.table))
    }

    public func windowBounds(in range: KeyRange, after cursor: [Value]?, limit: Int) async throws -> WindowBounds {
        let from = "SELECT \(sql.selectList) FROM \(sql.quotedTable)\(try sql.conditions(range: range, after: cursor))"
        let rows = try await database.rows("\(from) ORDER BY \(sql.orderBy) LIMIT 2 OFFSET \(max(0, limit - 1))", "finding a batch's bounds")
        if let first = rows.first {
            return WindowBounds(last: keyValues(first), next: rows.count > 1 ? keyValues(rows[1]) : nil)
        }
        // Fewer than `limit` rows are left: the window is the rest of the range.
        let last = try await database.rows("\(from) ORDER BY \(sql.orderByDescending) LIMIT 1", "finding a batch's bounds")
        return WindowBounds(last: last.first.map(keyValues), next: nil)
    }

    public func bucketDigests(in window: KeyRange, after cursor: [Value]?, buckets: Int) async throws -> [Int64: TableDigest] {
        // One bucket (a whole chunk compared at once): every row is in bucket 0, no key is hashed.
        let bucket = buckets <= 1 ? "0" : self.bucket(among: buckets)
        let rows = try await database.rows(
            """
            SELECT \(bucket), COUNT(*), \(MySQLRowHashSQL.foldedSum(rowHash))
            FROM \(sql.quotedTable)\(try sql.conditions(range: window, after: cursor)) GROUP BY 1
            """, "comparing a batch by buckets")
        var digests: [Int64: TableDigest] = [:]
        for row in rows {
            guard row.count == 3, let bucket: Int64 = MySQLTableInfo.number(row[0]), let count: Int = MySQLTableInfo.number(row[1]),
                let sum: UInt64 = MySQLTableInfo.number(row[2])
            else { continue }
            digests[bucket] = TableDigest(count: count, sum: sum)
        }
        return digests
    }

    public func rowHashes(in window: KeyRange, after cursor: [Value]?, buckets: Int, among: [Int64]) async throws -> [RowHash] {
        var filter = try sql.conditions(range: window, after: cursor)
        // With one bucket it holds every row: no filter, so each key is hashed once.
        if buckets > 1 {
            guard !among.isEmpty else { return [] }
            filter += (filter.isEmpty ? " WHERE " : " AND ")
                + "\(bucket(among: buckets)) IN (\(among.map(String.init).joined(separator: ", ")))"
        } else if !among.contains(0) {
            return []
        }
        let rows = try await database.rows("SELECT \(keyHash), \(rowHash) FROM \(sql.quotedTable)\(filter)", "comparing a batch by key")
        return rows.compactMap { row in
            guard row.count == 2, let keyHash = Self.hash(row[0]), let hash: UInt64 = MySQLTableInfo.number(row[1]) else { return nil }
            return RowHash(key: nil, keyHash: keyHash, hash: hash)
        }
    }

    /// The keys of `rows`: read by one more scan of the window (keys only, hashed again inside the
    /// server) unless the key is its own hash.
    public func keys(of rows: [RowHash], in window: KeyRange, after cursor: [Value]?) async throws -> [[Value]] {
        guard !rows.isEmpty else { return [] }
        if keyIsItsHash { return rows.map { Int64(bitPattern: $0.keyHash) }.sorted().map { [.integer($0)] } }
        let filter = try sql.conditions(range: window, after: cursor)
        let hashes = rows.map { String($0.keyHash) }.joined(separator: ", ")
        let found = try await database.rows(
            """
            SELECT \(sql.selectList) FROM \(sql.quotedTable)\(filter.isEmpty ? " WHERE " : filter + " AND ")\(keyHash) IN (\(hashes))
            ORDER BY \(sql.orderBy)
            """, "reading the keys of a batch's differing rows")
        return found.map(keyValues)
    }

    /// A row's bucket among `buckets`: the signed remainder of its key hash, as
    /// `RowHash.bucket(of:among:)` computes it.
    private func bucket(among buckets: Int) -> String { "MOD(CAST(\(keyHash) AS SIGNED), \(buckets))" }

    private func keyValues(_ row: [[UInt8]?]) -> [Value] { MySQLTableInfo.values(row, types: keyTypes) }

    /// A key hash as its 64 bits: a signed integer key's value, or an unsigned hash.
    private static func hash(_ cell: [UInt8]?) -> UInt64? {
        guard let cell else { return nil }
        let text = String(decoding: cell, as: UTF8.self)
        return UInt64(text) ?? Int64(text).map { UInt64(bitPattern: $0) }
    }

}
