import BackfillCore

/// `verify` on a MySQL table. Between two MySQL tables each range is counted and checksummed
/// inside its server (`MySQLRowHashSQL`: 64 bits of an MD5 per row, summed), so equal ranges ship
/// no rows, and a damaged range ships keys and row hashes — for a single integer key, counts and
/// sums of 32-key buckets first. Across engines rows are streamed and compared in their canonical
/// form (the sink's comparison).
extension MySQLSource: VerifySide {
    public func comparing(_ columns: [String]) async throws -> any VerifySide { try await selecting(columns) }

    /// MySQL parses values into its own types and prints them its own way (`1.50` for a
    /// DECIMAL(10,2)): values are compared in each column's canonical form.
    public func canonicalKindsAcrossEngines() async throws -> [CanonicalKind]? {
        try await tableInfo().types(of: columns).map(\.canonicalKind)
    }

    public func digest(_ range: KeyRange) async throws -> TableDigest {
        let sql = try keysetSQL()
        let rows = try await database.rows(
            """
            SELECT COUNT(*), \(MySQLRowHashSQL.foldedSum(try await rowHash()))
            FROM \(sql.quotedTable)\(try sql.conditions(range: range, after: nil))
            """, "verifying")
        let cells = rows.first ?? []
        return TableDigest(count: MySQLTableInfo.number(cells.first ?? nil) ?? 0, sum: MySQLTableInfo.number(cells.count > 1 ? cells[1] : nil) ?? 0)
    }

    public var hashesRows: Bool { true }

    public func keyHashes(in range: KeyRange, after key: [Value]?, limit: Int) async throws -> [KeyHash]? {
        let sql = try keysetSQL()
        return try await keyHashes(
            "\(try sql.conditions(range: range, after: key)) ORDER BY \(sql.orderBy) LIMIT \(max(1, limit))")
    }

    public func bucketDigests(in range: KeyRange, width: Int64) async throws -> [BucketDigest]? {
        guard let bucket = try await bucket(width: width) else { return nil }
        let sql = try keysetSQL()
        let rows = try await database.rows(
            """
            SELECT \(bucket), COUNT(*), \(MySQLRowHashSQL.foldedSum(try await rowHash()))
            FROM \(sql.quotedTable)\(try sql.conditions(range: range, after: nil)) GROUP BY 1 ORDER BY 1
            """, "verifying")
        return rows.compactMap { cells in
            guard cells.count == 3, let bucket: Int64 = MySQLTableInfo.number(cells[0]) else { return nil }
            return BucketDigest(bucket: bucket, digest: TableDigest(count: MySQLTableInfo.number(cells[1]) ?? 0, sum: MySQLTableInfo.number(cells[2]) ?? 0))
        }
    }

    public func keyHashes(in range: KeyRange, buckets: [Int64], width: Int64) async throws -> [KeyHash]? {
        guard let bucket = try await bucket(width: width) else { return nil }
        let sql = try keysetSQL()
        let filter = try sql.conditions(range: range, after: nil)
        // The span of the buckets first: the primary key's range then bounds the scan, and the
        // buckets asked for in turn (in key order) scan the range once in all.
        guard let low = buckets.min(), let high = buckets.max() else { return [] }
        let first = MySQLSQL.quoted(key[0])
        let span = "\(first) BETWEEN \(Self.lowestKey(of: low, width: width)) AND \(Self.highestKey(of: high, width: width))"
        let inBuckets = "\(span) AND \(bucket) IN (\(buckets.map(String.init).joined(separator: ", ")))"
        return try await keyHashes("\(filter.isEmpty ? " WHERE " : filter + " AND ")\(inBuckets) ORDER BY \(sql.orderBy)")
    }

    /// `key DIV width` for a single signed integer key (the key `bucketDigests` can bucket); `nil`
    /// otherwise (a `BIGINT UNSIGNED` may exceed the bucket numbers' range).
    private func bucket(width: Int64) async throws -> String? {
        guard key.count == 1, let type = try await tableInfo().type(of: key[0]), type.representation == .integer,
            type.affinity == .integer
        else { return nil }
        return "(\(MySQLSQL.quoted(key[0])) DIV \(width))"
    }

    /// The lowest key `key DIV width` puts in `bucket` (`DIV` truncates toward zero: bucket 0
    /// holds `-(width-1)...(width-1)`), clamped to Int64.
    static func lowestKey(of bucket: Int64, width: Int64) -> Int64 {
        let (start, overflow) = bucket.multipliedReportingOverflow(by: width)
        if overflow { return bucket < 0 ? .min : .max }
        return bucket > 0 ? start : start.subtractingReportingOverflow(width - 1).overflow ? .min : start - (width - 1)
    }

    /// The highest key `key DIV width` puts in `bucket`, clamped to Int64.
    static func highestKey(of bucket: Int64, width: Int64) -> Int64 {
        let (start, overflow) = bucket.multipliedReportingOverflow(by: width)
        if overflow { return bucket < 0 ? .min : .max }
        return bucket < 0 ? start : start.addingReportingOverflow(width - 1).overflow ? .max : start + (width - 1)
    }

    /// The key and row hash of each row `clause` (conditions and order) selects.
    private func keyHashes(_ clause: String) async throws -> [KeyHash] {
        let sql = try keysetSQL()
        let keyList = key.map(MySQLSQL.quoted).joined(separator: ", ")
        let rows = try await database.rows(
            "SELECT \(keyList), \(try await rowHash()) FROM \(sql.quotedTable)\(clause)", "verifying")
        let types = try await tableInfo().types(of: key)
        return rows.map { cells in
            KeyHash(key: MySQLTableInfo.values(Array(cells.prefix(types.count)), types: types), hash: MySQLTableInfo.number(cells.last ?? nil) ?? 0)
        }
    }

    /// The row hash of the columns this source reads (`MySQLRowHashSQL`).
    private func rowHash() async throws -> String {
        MySQLRowHashSQL.rowHash(columns, types: try await tableInfo().types(of: columns))
    }

    public func key(at offset: Int, in range: KeyRange) async throws -> [Value]? {
        try await keys(in: range, order: try keysetSQL().orderBy, limit: 1, offset: offset, "splitting a range").first
    }

    /// The rows of `range` in key order, read page by page.
    public func rows(in range: KeyRange) async throws -> [[Value]] {
        var all: [[Value]] = []
        var cursor: [Value]?
        while true {
            let rows = try await page(in: range, after: cursor, limit: 10_000)
            all += rows
            guard rows.count == 10_000, let last = rows.last else { return all }
            cursor = keyPositions.map { last[$0] }
        }
    }

    public func page(in range: KeyRange, after key: [Value]?, limit: Int) async throws -> [[Value]] {
        try await read(chunk: range, after: key.map { Cursor(key: $0) }, limit: limit).rows
    }

    public func randomKeys(_ n: Int) async throws -> [[Value]] {
        try await keys(in: range.keyRange, order: "RAND()", limit: n, "choosing keys to spot-check")
    }

    public func queryResult(_ query: String) async throws -> [[String]] {
        try await database.rows(query, "running a verification query").map { row in
            row.map { $0.map { String(decoding: $0, as: UTF8.self) } ?? "NULL" }
        }
    }
}
