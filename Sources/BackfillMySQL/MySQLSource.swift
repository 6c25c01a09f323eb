import BackfillCore

/// A MySQL or MariaDB table read in key order with keyset pagination (no OFFSET), on its primary
/// key or a unique index: integers and binary strings (`BINARY(16)` UUIDs) on their index,
/// character keys compared as bytes, composite keys column by column.
public struct MySQLSource: Source {
    public let database: MySQLDatabase
    public let table: String
    public let key: [String]
    public let columns: [String]
    public let range: RangeSpec
    private let info: MySQLTableInfo?

    public var valuesAreText: Bool { false }
    public var isKeyOrdered: Bool { true }

    /// A source reading every column of `table` until `selecting(_:)` names the job's columns.
    public init(database: MySQLDatabase, table: String, key: [String], range: RangeSpec = RangeSpec()) {
        self.database = database
        self.table = table
        self.key = key
        self.columns = []
        self.range = range
        self.info = nil
    }

    private init(copying other: MySQLSource, columns: [String], info: MySQLTableInfo) {
        self.database = other.database
        self.table = other.table
        self.key = other.key
        self.columns = columns
        self.range = other.range
        self.info = info
    }

    /// The same source reading `columns` (their types read from the catalog).
    public func selecting(_ columns: [String]) async throws -> MySQLSource {
        MySQLSource(copying: self, columns: columns, info: try await tableInfo())
    }

    private var location: String { "\(database.location) table \(table)" }

    public func tableInfo() async throws -> MySQLTableInfo {
        if let info { return info }
        return try await MySQLTableInfo.read(table, in: database)
    }

    public func describe() async throws -> TableDescription { try await tableInfo().description }

    func keysetSQL() throws -> MySQLKeysetSQL {
        guard let info else { throw BackfillError(.invalidSpec, "the source was not configured with columns", location: location) }
        return MySQLKeysetSQL(
            table: table, columns: columns, key: key, keyTypes: info.types(of: key),
            whereClause: range.whereClause, columnTypes: info.types(of: columns))
    }

    public func checkKey() async throws {
        let info = try await tableInfo()
        let sql = try keysetSQL()
        let filter = try sql.conditions(range: range.keyRange, after: nil)
        let keyColumns = key.map(MySQLSQL.quoted)
        if !key.allSatisfy({ info.description.column(named: $0)?.notNull == true }) {
            let nullTest = keyColumns.map { "\($0) IS NULL" }.joined(separator: " OR ")
            let clause = filter.isEmpty ? " WHERE (\(nullTest))" : filter + " AND (\(nullTest))"
            let nulls = try await count("SELECT COUNT(*) FROM \(sql.quotedTable)\(clause)", "counting NULL keys")
            if nulls > 0 {
                throw BackfillError.nullKeys(nulls, key: key, location: location)
            }
        }
        guard !info.description.hasUniqueKey(key) else { return }
        // Bytes, not the collation: 'a' and 'A' are two keys to backfill.
        let keyList = zip(keyColumns, sql.keyTypes).map { $1.byteOrdered($0) }.joined(separator: ", ")
        let duplicated = try await count(
            "SELECT COUNT(*) FROM (SELECT 1 FROM \(sql.quotedTable)\(filter) GROUP BY \(keyList) HAVING COUNT(*) > 1) d",
            "looking for duplicate keys")
        if duplicated > 0 {
            throw BackfillError.duplicateKeys(
                duplicated, key: key, listing: "SELECT \(keyList), COUNT(*) FROM \(sql.quotedTable) GROUP BY \(keyList) HAVING COUNT(*) > 1",
                location: location)
        }
    }

    private func count(_ query: String, _ what: String) async throws -> Int {
        let rows = try await database.rows(query, what)
        return MySQLTableInfo.number(rows.first?[0] ?? nil) ?? 0
    }

    public func plan(workers: Int) async throws -> [ChunkPlan] {
        let info = try await tableInfo()
        let sql = try keysetSQL()
        let bounds = range.keyRange
        let filter = try sql.conditions(range: bounds, after: nil)
        let total = try await count("SELECT COUNT(*) FROM \(sql.quotedTable)\(filter)", "counting rows")
        if key.count == 1, info.type(of: key[0])?.representation == .integer {
            let first = MySQLSQL.quoted(key[0])
            let rows = try await database.rows("SELECT MIN(\(first)), MAX(\(first)) FROM \(sql.quotedTable)\(filter)", "planning chunks")
            if let low: Int64 = MySQLTableInfo.number(rows.first?[0] ?? nil), let high: Int64 = MySQLTableInfo.number(rows.first?[1] ?? nil) {
                return Planner.splitIntegers(min: low, max: high, totalRows: total, workers: workers, bounds: bounds)
            }
            return Planner.chunks(between: [], totalRows: 0, bounds: bounds)
        }
        let perChunk = Planner.rowsPerChunk(totalRows: total, workers: workers)
        guard total > perChunk else { return Planner.chunks(between: [], totalRows: total, bounds: bounds) }
        // Edges every `perChunk` keys, read from the key's index.
        var edges: [[Value]] = []
        for offset in stride(from: perChunk, to: total, by: perChunk) {
            guard let edge = try await keys(in: bounds, order: sql.orderBy, limit: 1, offset: offset, "planning chunks").first else { break }
            if edges.last.map({ KeyOrder.compare($0, edge) < 0 }) ?? true { edges.append(edge) }
        }
        return Planner.chunks(between: edges, totalRows: total, bounds: bounds)
    }

    /// Up to `limit` keys of `range` in `order` (the key's, or `RAND()`), from the `offset`-th on.
    func keys(in range: KeyRange, order: String, limit: Int, offset: Int = 0, _ what: String) async throws -> [[Value]] {
        let sql = try keysetSQL()
        let keyList = key.map(MySQLSQL.quoted).joined(separator: ", ")
        let rows = try await database.rows(
            "SELECT \(keyList) FROM \(sql.quotedTable)\(try sql.conditions(range: range, after: nil)) ORDER BY \(order) LIMIT \(max(0, limit)) OFFSET \(max(0, offset))",
            what)
        let types = try await tableInfo().types(of: key)
        return rows.map { MySQLTableInfo.values($0, types: types) }
    }

    /// Where the key's columns stand among the source's columns.
    var keyPositions: [Int] {
        key.map { name in columns.firstIndex { $0.caseInsensitiveCompare(name) == .orderedSame } ?? 0 }
    }

    public func read(chunk: KeyRange, after cursor: Cursor?, limit: Int) async throws -> SourceBatch {
        let rows = try await typedRows(try keysetSQL().page(range: chunk, after: cursor?.key, limit: limit), "reading a batch")
        let keyPositions = self.keyPositions
        let next = rows.last.map { row in Cursor(key: keyPositions.map { row[$0] }) } ?? cursor
        return SourceBatch(rows: rows, cursor: next, isLast: rows.count < limit)
    }

    public func fetch(keys: [[Value]]) async throws -> [[Value]]? {
        let sql = try keysetSQL()
        var rows: [[Value]] = []
        for start in stride(from: 0, to: keys.count, by: 500) {
            let some = Array(keys[start..<min(start + 500, keys.count)])
            rows += try await typedRows(
                "SELECT \(sql.selectList) FROM \(sql.quotedTable) WHERE \(try sql.keyIn(some)) ORDER BY \(sql.orderBy)", "looking rows up by key")
        }
        return rows
    }

    public func probe(_ query: String) async throws -> Double {
        let rows = try await database.rows("SELECT (\(query))", "running the throttle query")
        guard let cell = rows.first?.first, let bytes = cell, let number = Double(String(decoding: bytes, as: UTF8.self)) else {
            throw BackfillError(.invalidSpec, "the throttle query returned no number", location: "throttle.query")
        }
        return number
    }

    /// Runs a query selecting the source's columns and types each cell by its column.
    func typedRows(_ query: String, _ what: String) async throws -> [[Value]] {
        let types = info?.types(of: columns) ?? []
        let cells = try await database.rows(query, what)
        return cells.map { MySQLTableInfo.values($0, types: types) }
    }
}
