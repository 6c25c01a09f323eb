import BackfillCore
import Foundation
import GRDB

/// A table in a SQLite database, read in key order with keyset pagination.
public struct SQLiteSource: Source {
    public let path: String
    public let table: String
    public let key: [String]
    public let columns: [String]
    public let range: RangeSpec
    private let database: DatabaseQueue

    public var valuesAreText: Bool { false }
    public var isKeyOrdered: Bool { true }

    /// Opens the database read-only.
    /// - Parameter columns: the columns rows carry; empty until the job is resolved.
    /// - Throws: `BackfillError` `.invalidInput` when the file is missing or not a database.
    public init(path: String, table: String, key: [String], columns: [String] = [], range: RangeSpec = RangeSpec()) throws {
        self.path = path
        self.table = table
        self.key = key
        self.columns = columns
        self.range = range
        self.database = try SQLiteDatabase.open(path: path, readOnly: true)
    }

    private init(copying other: SQLiteSource, columns: [String]) {
        self.path = other.path
        self.table = other.table
        self.key = other.key
        self.columns = columns
        self.range = other.range
        self.database = other.database
    }

    /// The same source yielding `columns`.
    public func selecting(_ columns: [String]) -> SQLiteSource { SQLiteSource(copying: self, columns: columns) }

    private var sql: KeysetSQL { KeysetSQL(table: table, columns: columns, key: key, whereClause: range.whereClause) }
    var keysetSQL: KeysetSQL { sql }

    /// Reads for verification, mapping errors like every other read.
    func readVerifying<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await read("verifying", body)
    }

    public func describe() async throws -> TableDescription {
        let (table, path) = (self.table, self.path)
        return try await read("reading the table's schema") { db in try SQLiteDatabase.describe(db, table: table, path: path) }
    }

    public func checkKey() async throws {
        let sql = self.sql
        let key = self.key
        let conditions = sql.conditions(range: range.keyRange, after: nil)
        let keyList = key.map(Identifier.quoted).joined(separator: ", ")
        let nullTest = key.map { "\(Identifier.quoted($0)) IS NULL" }.joined(separator: " OR ")
        let filter = conditions.sql.isEmpty ? " WHERE (\(nullTest))" : conditions.sql + " AND (\(nullTest))"
        let (table, schema) = (self.table, sql.schema)
        let nulls = try await read("counting NULL keys") { db -> Int in
            // A key the schema keeps from being NULL needs no scan of the table.
            if try Self.keyCannotBeNull(db, table: table, schema: schema, key: key) { return 0 }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM \(sql.quotedTable)\(filter)", arguments: StatementArguments(values: conditions.arguments)) ?? 0
        }
        if nulls > 0 {
            throw BackfillError.nullKeys(nulls, key: key, location: "\(path) table \(table)")
        }
        let description = try await describe()
        guard !description.hasUniqueKey(key) else { return }
        let duplicated = try await read("looking for duplicate keys") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 FROM \(sql.quotedTable)\(conditions.sql) GROUP BY \(keyList) HAVING count(*) > 1)", arguments: StatementArguments(values: conditions.arguments)) ?? 0
        }
        if duplicated > 0 {
            throw BackfillError.duplicateKeys(
                duplicated, key: key, listing: "SELECT \(keyList), count(*) FROM \(sql.quotedTable) GROUP BY \(keyList) HAVING count(*) > 1",
                location: "\(path) table \(table)")
        }
    }

    /// Whether every key column is declared NOT NULL, or the key is the table's INTEGER PRIMARY
    /// KEY (the rowid, never NULL).
    static func keyCannotBeNull(_ db: Database, table: String, schema: String?, key: [String]) throws -> Bool {
        let info = try Row.fetchAll(
            db, sql: "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?, ?)", arguments: [table, schema ?? "main"])
        let columns = Dictionary(info.map { (($0["name"] as String).lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        let primary = info.filter { ($0["pk"] as Int) > 0 }
        return key.allSatisfy { name in
            guard let column = columns[name.lowercased()] else { return false }
            if (column["notnull"] as Int) == 1 { return true }
            return key.count == 1 && primary.count == 1 && (column["pk"] as Int) == 1
                && (column["type"] as String).uppercased() == "INTEGER"
        }
    }

    public func plan(workers: Int) async throws -> [ChunkPlan] {
        let sql = self.sql
        let bounds = range.keyRange
        let conditions = sql.conditions(range: bounds, after: nil)
        let firstKey = Identifier.quoted(key[0])
        let stats = try await read("planning chunks") { db -> (Int, Value, Value) in
            let row = try Row.fetchOne(
                db, sql: "SELECT count(*), min(\(firstKey)), max(\(firstKey)) FROM \(sql.quotedTable)\(conditions.sql)",
                arguments: StatementArguments(values: conditions.arguments))
            guard let row else { return (0, .null, .null) }
            let values = row.values
            if case .integer(let count) = values[0] { return (Int(count), values[1], values[2]) }
            return (0, .null, .null)
        }
        let (count, minimum, maximum) = stats
        if key.count == 1, case .integer(let low) = minimum, case .integer(let high) = maximum {
            return Planner.splitIntegers(min: low, max: high, totalRows: count, workers: workers, bounds: bounds)
        }
        let perChunk = Planner.rowsPerChunk(totalRows: count, workers: workers)
        guard count > perChunk else { return Planner.chunks(between: [], totalRows: count, bounds: bounds) }
        let keyList = key.map(Identifier.quoted).joined(separator: ", ")
        let edges = try await read("sampling chunk boundaries") { db -> [[Value]] in
            var edges: [[Value]] = []
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT \(keyList) FROM \(sql.quotedTable)\(conditions.sql)\(sql.orderBy)",
                arguments: StatementArguments(values: conditions.arguments))
            var seen = 0
            while let row = try cursor.next() {
                seen += 1
                if seen % perChunk == 0, seen < count { edges.append(row.values) }
            }
            return edges
        }
        return Planner.chunks(between: edges, totalRows: count, bounds: bounds)
    }

    public func read(chunk: KeyRange, after cursor: BackfillCore.Cursor?, limit: Int) async throws -> SourceBatch {
        let page = sql.page(range: chunk, after: cursor?.key, limit: limit)
        let rows = try await read("reading a batch") { db -> [[Value]] in
            let statement = try db.cachedStatement(sql: page.sql)
            let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(values: page.arguments))
            var rows: [[Value]] = []
            rows.reserveCapacity(limit)
            while let row = try cursor.next() { rows.append(row.values) }
            return rows
        }
        let keyPositions = key.map { name in columns.firstIndex { $0.caseInsensitiveCompare(name) == .orderedSame } ?? 0 }
        let nextCursor = rows.last.map { row in BackfillCore.Cursor(key: keyPositions.map { row[$0] }) } ?? cursor
        return SourceBatch(rows: rows, cursor: nextCursor, isLast: rows.count < limit)
    }

    /// The current rows for `keys`, looked up by key in groups.
    public func fetch(keys: [[BackfillCore.Value]]) async throws -> [[BackfillCore.Value]]? {
        let sql = self.sql
        var rows: [[BackfillCore.Value]] = []
        for start in stride(from: 0, to: keys.count, by: 200) {
            let group = Array(keys[start..<min(start + 200, keys.count)])
            let query = "SELECT \(sql.selectList) FROM \(sql.quotedTable) WHERE \(sql.keyIn(count: group.count))"
            rows += try await read("looking rows up by key") { db in
                try Row.fetchAll(db, sql: query, arguments: StatementArguments(values: group.flatMap { $0 })).map(\.values)
            }
        }
        return rows
    }

    /// Runs `throttle.query` on the source database; its first column, as a number.
    /// - Throws: `BackfillError` when the query fails or returns no number.
    public func probe(_ query: String) async throws -> Double {
        let value = try await read("running the throttle query") { db -> DatabaseValue? in
            try Row.fetchOne(db, sql: query).map { $0[0] as DatabaseValue }
        }
        switch value?.storage {
        case .int64(let v): return Double(v)
        case .double(let v): return v
        case .string(let v) where Double(v) != nil: return Double(v)!
        default:
            throw BackfillError(.invalidSpec, "the throttle query returned no number", location: "throttle.query")
        }
    }

    private func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await database.read(body)
        } catch {
            throw SQLiteErrors.map(error, what, location: "\(path) table \(table)")
        }
    }
}
