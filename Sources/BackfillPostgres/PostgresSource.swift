import BackfillCore
import Foundation
import PostgresNIO

/// A PostgreSQL table read in key order with keyset pagination on its (possibly composite) key:
/// `WHERE (k1, k2) > ($1, $2) ORDER BY k1, k2 LIMIT n`, which an index on the key answers
/// without sorting. Planning reads min/max and `pg_class.reltuples`, never the whole table.
public struct PostgresSource: Source {
    public let database: PostgresDatabase
    public let table: String
    public let key: [String]
    public let columns: [String]
    public let range: RangeSpec
    private let info: PostgresTableInfo?
    /// Whether text keys are ordered and compared by their bytes (`inKeyByteOrder()`).
    public private(set) var keysInByteOrder = false

    public var valuesAreText: Bool { false }
    public var isKeyOrdered: Bool { true }

    /// A source over `table` of `database`; call `selecting(_:)` before reading.
    public init(database: PostgresDatabase, table: String, key: [String], range: RangeSpec = RangeSpec()) {
        self.database = database
        self.table = table
        self.key = key
        self.columns = []
        self.range = range
        self.info = nil
    }

    private init(copying other: PostgresSource, columns: [String], info: PostgresTableInfo) {
        self.database = other.database
        self.table = other.table
        self.key = other.key
        self.columns = columns
        self.range = other.range
        self.info = info
        self.keysInByteOrder = other.keysInByteOrder
    }

    /// The same source with text keys in byte order (`COLLATE "C"`), whatever the columns'
    /// collation: `verify` merges both sides' rows in that order. (A collation other than `C`
    /// then cannot use the key's index for the order; `run` keeps the database's order.)
    public func inKeyByteOrder() -> PostgresSource {
        var copy = self
        copy.keysInByteOrder = true
        return copy
    }

    /// The same source yielding `columns` (typed by the table's column types).
    public func selecting(_ columns: [String]) async throws -> PostgresSource {
        PostgresSource(copying: self, columns: columns, info: try await tableInfo())
    }

    var location: String { "\(database.dsn) table \(table)" }

    /// Columns, types and unique keys of the table.
    public func tableInfo() async throws -> PostgresTableInfo {
        if let info { return info }
        return try await PostgresCatalog.describe(table, in: database)
    }

    public func describe() async throws -> TableDescription { try await tableInfo().description }

    func keysetSQL() throws -> PostgresKeysetSQL {
        guard let info else { throw BackfillError(.invalidSpec, "the source was not configured with columns", location: location) }
        return PostgresKeysetSQL(
            table: table, columns: columns, key: key, keyTypes: info.castTypes(of: key), whereClause: range.whereClause,
            byteOrder: keysInByteOrder)
    }

    private var columnTypes: [PostgresColumnType] {
        info?.types(of: columns) ?? columns.map { _ in .text }
    }

    public func checkKey() async throws {
        let info = try await tableInfo()
        let sql = try keysetSQL()
        let keyColumns = key.map(Identifier.quoted)
        let keyIsNotNull = key.allSatisfy { info.description.column(named: $0)?.notNull == true }
        if !keyIsNotNull {
            var binds = PostgresBindings()
            let filter = sql.conditions(range: range.keyRange, after: nil, binds: &binds)
            let nullTest = keyColumns.map { "\($0) IS NULL" }.joined(separator: " OR ")
            let clause = filter.isEmpty ? " WHERE (\(nullTest))" : filter + " AND (\(nullTest))"
            let rows = try await database.textRows(
                PostgresQuery(unsafeSQL: "SELECT count(*)::text FROM \(sql.quotedTable)\(clause)", binds: binds), "counting NULL keys")
            if let nulls = rows.first?[0].flatMap(Int.init), nulls > 0 {
                throw BackfillError.nullKeys(nulls, key: key, location: location)
            }
        }
        guard !info.description.hasUniqueKey(key) else { return }
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range.keyRange, after: nil, binds: &binds)
        let keyList = keyColumns.joined(separator: ", ")
        let rows = try await database.textRows(
            PostgresQuery(
                unsafeSQL: "SELECT count(*)::text FROM (SELECT 1 FROM \(sql.quotedTable)\(filter) GROUP BY \(keyList) HAVING count(*) > 1) d",
                binds: binds), "looking for duplicate keys")
        if let duplicated = rows.first?[0].flatMap(Int.init), duplicated > 0 {
            throw BackfillError.duplicateKeys(
                duplicated, key: key, listing: "SELECT \(keyList), count(*) FROM \(sql.quotedTable) GROUP BY \(keyList) HAVING count(*) > 1",
                location: location)
        }
    }

    public func plan(workers: Int) async throws -> [ChunkPlan] {
        let sql = try keysetSQL()
        let bounds = range.keyRange
        let estimate = try await estimatedRows(sql)
        let keyType = info?.type(of: key[0])
        if key.count == 1, keyType?.representation == .integer {
            var binds = PostgresBindings()
            let filter = sql.conditions(range: bounds, after: nil, binds: &binds)
            let first = Identifier.quoted(key[0])
            let rows = try await database.textRows(
                PostgresQuery(unsafeSQL: "SELECT min(\(first))::text, max(\(first))::text FROM \(sql.quotedTable)\(filter)", binds: binds),
                "planning chunks")
            guard let low = rows.first?[0].flatMap(Int64.init), let high = rows.first?[1].flatMap(Int64.init) else {
                return Planner.chunks(between: [], totalRows: 0, bounds: bounds)
            }
            let total = min(estimate, Planner.keySpan(min: low, max: high))
            return Planner.splitIntegers(min: low, max: high, totalRows: total, workers: workers, bounds: bounds)
        }
        let perChunk = Planner.rowsPerChunk(totalRows: estimate, workers: workers)
        guard estimate > perChunk else { return Planner.chunks(between: [], totalRows: estimate, bounds: bounds) }
        return Planner.chunks(between: try await sampledEdges(sql, estimate: estimate, perChunk: perChunk), totalRows: estimate, bounds: bounds)
    }

    /// Rows the planner expects: `pg_class.reltuples`, or a count when the table was never analysed.
    private func estimatedRows(_ sql: PostgresKeysetSQL) async throws -> Int {
        let stats = try await database.textRows(
            "SELECT reltuples::bigint::text FROM pg_class WHERE oid = to_regclass(\(sql.quotedTable))", "reading table statistics")
        if let tuples = stats.first?[0].flatMap(Int.init), tuples >= 0, range.whereClause == nil, range.from == nil, range.to == nil {
            return tuples
        }
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range.keyRange, after: nil, binds: &binds)
        let counted = try await database.textRows(
            PostgresQuery(unsafeSQL: "SELECT count(*)::text FROM \(sql.quotedTable)\(filter)", binds: binds), "counting rows")
        return counted.first?[0].flatMap(Int.init) ?? 0
    }

    /// Chunk edges from a block sample of the key (`TABLESAMPLE SYSTEM`), sorted by PostgreSQL.
    private func sampledEdges(_ sql: PostgresKeysetSQL, estimate: Int, perChunk: Int) async throws -> [[Value]] {
        let percent = min(100, max(0.01, 100 * 20_000 / Double(max(1, estimate))))
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range.keyRange, after: nil, binds: &binds)
        let keyList = PostgresKeysetSQL.textList(key)
        let sample = try await database.textRows(
            PostgresQuery(
                unsafeSQL: "SELECT \(keyList) FROM \(sql.quotedTable) TABLESAMPLE SYSTEM (\(percent))\(filter) ORDER BY \(sql.orderBy)",
                binds: binds), "sampling chunk boundaries")
        let chunks = Int((Double(estimate) / Double(perChunk)).rounded(.up))
        guard chunks > 1, sample.count >= chunks else { return [] }
        let info = try await tableInfo()
        var edges: [[Value]] = []
        for i in 1..<chunks {
            let edge = info.values(fromText: sample[i * sample.count / chunks], of: key)
            if edges.last.map({ $0 != edge }) ?? true { edges.append(edge) }
        }
        return edges
    }

    public func read(chunk: KeyRange, after cursor: BackfillCore.Cursor?, limit: Int) async throws -> SourceBatch {
        let query = try keysetSQL().page(range: chunk, after: cursor?.key, limit: limit)
        let rows = try await typedRows(query, "reading a batch")
        let keyPositions = key.map { name in columns.firstIndex { $0.caseInsensitiveCompare(name) == .orderedSame } ?? 0 }
        let nextCursor = rows.last.map { row in BackfillCore.Cursor(key: keyPositions.map { row[$0] }) } ?? cursor
        return SourceBatch(rows: rows, cursor: nextCursor, isLast: rows.count < limit)
    }

    public func fetch(keys: [[BackfillCore.Value]]) async throws -> [[BackfillCore.Value]]? {
        let sql = try keysetSQL()
        var rows: [[BackfillCore.Value]] = []
        for start in stride(from: 0, to: keys.count, by: 500) {
            rows += try await typedRows(sql.rows(withKeys: Array(keys[start..<min(start + 500, keys.count)])), "looking rows up by key")
        }
        return rows
    }

    public func probe(_ query: String) async throws -> Double {
        let rows = try await database.textRows(PostgresQuery(unsafeSQL: "SELECT (\(query))::text"), "running the throttle query")
        guard let number = rows.first?[0].flatMap(Double.init) else {
            throw BackfillError(.invalidSpec, "the throttle query returned no number", location: "throttle.query")
        }
        return number
    }

    /// Runs a query selecting `columns` as text and types each cell by its column.
    func typedRows(_ query: PostgresQuery, _ what: String) async throws -> [[BackfillCore.Value]] {
        let types = columnTypes
        let logger = database.logger
        return try await database.withConnection(what) { connection in
            var rows: [[BackfillCore.Value]] = []
            for try await row in try await connection.checkedQuery(query, logger: logger) {
                var values: [BackfillCore.Value] = []
                values.reserveCapacity(types.count)
                for (cell, type) in zip(row, types) {
                    values.append(type.value(fromText: cell.bytes.map { String(buffer: $0) }))
                }
                rows.append(values)
            }
            return rows
        }
    }
}
