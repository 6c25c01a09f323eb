import BackfillCore
import PostgresNIO

/// A PostgreSQL table's columns (with their types) and unique keys, read from the catalog.
public struct PostgresTableInfo: Sendable {
    public var description: TableDescription
    /// Column types by lower-cased column name.
    public var types: [String: PostgresColumnType]

    public func type(of column: String) -> PostgresColumnType? { types[column.lowercased()] }

    /// The types of `columns`, `text` for any the table does not have.
    func types(of columns: [String]) -> [PostgresColumnType] { columns.map { type(of: $0) ?? .text } }

    /// What bound values of `columns` are cast to (`CAST($1 AS uuid)`).
    func castTypes(of columns: [String]) -> [String] { types(of: columns).map(\.formatted) }

    /// Typed values from a row of text cells of `columns`.
    func values(fromText row: [String?], of columns: [String]) -> [Value] {
        zip(row, types(of: columns)).map { text, type in type.value(fromText: text) }
    }

    /// `hash_record_extended(ROW(columns), 0)`, with the columns whose type has no hash function
    /// hashed by their text: the one checksum expression of runs and verify.
    /// - Parameter seed: another seed gives an independent hash (the diff buckets keys by one).
    /// - Parameter alias: qualifies the columns (`t."id"`) where a statement reads several tables.
    func rowHash(of columns: [String], seed: Int = 0, alias: String? = nil) -> String {
        let prefix = alias.map { $0 + "." } ?? ""
        let parts = columns.map { prefix + Identifier.quoted($0) + ((type(of: $0)?.hashesNatively ?? false) ? "" : "::text") }
        return "hash_record_extended(ROW(\(parts.joined(separator: ", "))), \(seed))"
    }
}

/// Reads table definitions from `pg_catalog`.
enum PostgresCatalog {
    /// Describes `table` (`name` or `schema.name`).
    /// - Throws: `BackfillError` `.invalidInput` when the table does not exist or cannot be read.
    static func describe(_ table: String, in database: PostgresDatabase) async throws -> PostgresTableInfo {
        let regclass = Identifier.quoted(table)
        let location = "\(database.dsn) table \(table)"
        let columns = try await database.textRows(
            """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text, t.typname
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = to_regclass(\(regclass)) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """, "reading the table's columns")
        guard !columns.isEmpty else {
            throw BackfillError(.invalidInput, "no such table (or no columns visible to this user)", location: location)
        }
        let keys = try await database.textRows(
            """
            SELECT string_agg(a.attname, chr(31) ORDER BY k.ord)
            FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = to_regclass(\(regclass)) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
            GROUP BY i.indexrelid, i.indisprimary
            ORDER BY i.indisprimary DESC, i.indexrelid
            """, "reading the table's unique indexes")
        var types: [String: PostgresColumnType] = [:]
        var described: [ColumnDescription] = []
        for row in columns {
            let name = row[0] ?? "", formatted = row[1] ?? "", typeName = row[3] ?? ""
            let type = PostgresColumnType(name: typeName, formatted: formatted)
            types[name.lowercased()] = type
            described.append(ColumnDescription(
                name: name, declaredType: formatted, notNull: row[2] == "true", affinity: type.affinity, fit: type.fit))
        }
        let unique = keys.compactMap { $0[0]?.split(separator: "\u{1F}").map(String.init) }
        return PostgresTableInfo(description: TableDescription(columns: described, uniqueKeys: unique), types: types)
    }
}
