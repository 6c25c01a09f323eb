import BackfillCore
import GRDB

/// The SQL a `SQLiteSink` runs for one job, with identifiers quoted and values bound.
struct SinkStatements: Sendable {
    let job: ResolvedJob
    private let quotedTable: String
    private let selectSQL: String
    private let insertSQL: String
    private let updateSQL: String
    private let keys: KeysetSQL
    /// Non-key column positions, in `SET` order.
    private let valueIndices: [Int]

    init(table: String, job: ResolvedJob) {
        self.job = job
        quotedTable = Identifier.quoted(table)
        let columns = job.columns.map(Identifier.quoted)
        let keyColumns = job.keyIndices.map { columns[$0] }
        keys = KeysetSQL(table: table, columns: job.columns, key: job.keyIndices.map { job.columns[$0] }, whereClause: nil)
        selectSQL = "SELECT \(columns.joined(separator: ", ")) FROM \(quotedTable)"
        insertSQL = "INSERT INTO \(quotedTable) (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
        valueIndices = job.columns.indices.filter { !job.keyIndices.contains($0) }
        let assignments = valueIndices.map { "\(columns[$0]) = ?" }.joined(separator: ", ")
        let keyMatch = keyColumns.map { "\($0) = ?" }.joined(separator: " AND ")
        updateSQL = "UPDATE \(quotedTable) SET \(assignments) WHERE \(keyMatch)"
    }

    func key(of row: [Value]) -> [Value] { job.key(of: row) }

    /// The target's current rows for the keys of `rows`, by key.
    func existingRows(for rows: [[Value]], db: Database, keyOrdered: Bool) throws -> [[Value]: [Value]] {
        var existing: [[Value]: [Value]] = [:]
        existing.reserveCapacity(rows.count)
        if keyOrdered, let first = rows.first, let last = rows.last {
            let sql = "\(selectSQL) WHERE \(keys.keyTuple) >= \(keys.placeholders) AND \(keys.keyTuple) <= \(keys.placeholders)"
            let statement = try db.cachedStatement(sql: sql)
            let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(values: key(of: first) + key(of: last)))
            while let row = try cursor.next() {
                let values = row.values
                existing[key(of: values)] = values
            }
            return existing
        }
        let groupSize = max(1, 500 / job.keyIndices.count)
        var start = 0
        while start < rows.count {
            let group = rows[start..<min(start + groupSize, rows.count)]
            let sql = "\(selectSQL) WHERE \(keys.keyIn(count: group.count))"
            let statement = try db.cachedStatement(sql: sql)
            let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(values: group.flatMap { key(of: $0) }))
            while let row = try cursor.next() {
                let values = row.values
                existing[key(of: values)] = values
            }
            start += groupSize
        }
        return existing
    }

    func insert(_ row: [Value], db: Database) throws {
        try db.cachedStatement(sql: insertSQL).execute(arguments: StatementArguments(values: row))
    }

    func update(_ row: [Value], db: Database) throws {
        guard !valueIndices.isEmpty else { return }
        let arguments = valueIndices.map { row[$0] } + key(of: row)
        try db.cachedStatement(sql: updateSQL).execute(arguments: StatementArguments(values: arguments))
    }
}
