import BackfillCore

/// A table's columns and unique keys as `information_schema` describes them, in the DSN's database.
public struct MySQLTableInfo: Sendable {
    public var description: TableDescription
    /// Column types by lower-cased column name.
    public var types: [String: MySQLColumnType]
    /// The unique indexes by name (`PRIMARY` for the primary key), with their columns.
    public var uniqueIndexes: [(name: String, columns: [String])]

    /// The name of the unique index on exactly `key` (in any order).
    func indexName(of key: [String]) -> String? {
        let wanted = Set(key.map { $0.lowercased() })
        return uniqueIndexes.first { Set($0.columns.map { $0.lowercased() }) == wanted }?.name
    }

    public func type(of column: String) -> MySQLColumnType? { types[column.lowercased()] }

    /// The types of `columns` (text for any the table does not have).
    func types(of columns: [String]) -> [MySQLColumnType] {
        columns.map { type(of: $0) ?? MySQLColumnType(dataType: "text", columnType: "text") }
    }

    /// An integer from a cell's digits (`nil` for NULL or anything else).
    static func number<N: FixedWidthInteger>(_ cell: [UInt8]?) -> N? {
        cell.flatMap { N(String(decoding: $0, as: UTF8.self)) }
    }

    /// Typed values from a row of cells of `columns`.
    static func values(_ row: [[UInt8]?], types: [MySQLColumnType]) -> [Value] {
        zip(row, types).map { cell, type in type.value(from: cell) }
    }

    /// Reads the table's definition.
    /// - Throws: `BackfillError` `.invalidInput` when the table does not exist (naming it) or the
    ///   catalog cannot be read.
    static func read(_ table: String, in database: MySQLDatabase) async throws -> MySQLTableInfo {
        let name = MySQLSQL.string(table)
        let columns = try await database.rows(
            """
            SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COALESCE(NUMERIC_SCALE, DATETIME_PRECISION),
              CHARACTER_SET_NAME, COLLATION_NAME
            FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = \(name) ORDER BY ORDINAL_POSITION
            """, "reading the table's columns")
        guard !columns.isEmpty else {
            throw BackfillError(.invalidInput, "table \(table) does not exist in database \(database.dsn.database)", location: database.location)
        }
        var described: [ColumnDescription] = []
        var types: [String: MySQLColumnType] = [:]
        for row in columns {
            let text = row.map { $0.map { String(decoding: $0, as: UTF8.self) } }
            let columnName = text[0] ?? ""
            let type = MySQLColumnType(
                dataType: text[1] ?? "text", columnType: text[2] ?? "text", scale: text[4].flatMap { Int($0) }, charset: text[5],
                collation: text[6])
            types[columnName.lowercased()] = type
            described.append(
                ColumnDescription(name: columnName, declaredType: type.columnType, notNull: text[3] == "NO", affinity: type.affinity, fit: type.fit))
        }
        let indexRows = try await database.rows(
            """
            SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = \(name) AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX
            """, "reading the table's unique keys")
        var keys: [(name: String, columns: [String])] = []
        for row in indexRows {
            let index = row[0].map { String(decoding: $0, as: UTF8.self) } ?? ""
            let column = row[1].map { String(decoding: $0, as: UTF8.self) } ?? ""
            if keys.last?.name == index { keys[keys.count - 1].columns.append(column) } else { keys.append((index, [column])) }
        }
        return MySQLTableInfo(
            description: TableDescription(columns: described, uniqueKeys: keys.map(\.columns)), types: types,
            uniqueIndexes: keys.map { (name: $0.name, columns: $0.columns) })
    }
}
