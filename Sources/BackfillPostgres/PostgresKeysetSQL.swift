import BackfillCore
import PostgresNIO

/// SQL for reading a PostgreSQL table in key order: the key tuple, bound key values with casts to
/// the key columns' types, range conditions and keyset pages. The one place that builds them.
struct PostgresKeysetSQL: Sendable {
    let table: String
    let columns: [String]
    let key: [String]
    /// The declared type of each key column, for casting bound values (`uuid`, `timestamptz`, …).
    let keyTypes: [String]
    let whereClause: String?
    /// Order and compare text keys by their bytes (`COLLATE "C"`) instead of the column's
    /// collation: the order `verify` merges rows in, whatever the database's locale.
    var byteOrder = false

    var quotedTable: String { Identifier.quoted(table) }
    var keyTuple: String { "(" + orderedKey.joined(separator: ", ") + ")" }
    var orderBy: String { orderedKey.joined(separator: ", ") }
    var orderByDescending: String { orderedKey.map { $0 + " DESC" }.joined(separator: ", ") }
    /// The key columns as text, for reading keys back (`keyValues` binds them again); renamed, as
    /// in `textList`, so that `ORDER BY` sorts by the columns, not by their text.
    var keyTextList: String { Self.textList(key) }

    /// The key columns as compared and sorted: text ones `COLLATE "C"` in byte order.
    private var orderedKey: [String] {
        zip(key, keyTypes).map { column, type in
            byteOrder && Self.isCollatable(type) ? "\(Identifier.quoted(column)) COLLATE \"C\"" : Identifier.quoted(column)
        }
    }

    /// Types whose order a collation decides (`text`, `varchar(n)`, `char(n)`, `name`).
    static func isCollatable(_ formattedType: String) -> Bool {
        ["text", "character varying", "character", "name"].contains { formattedType == $0 || formattedType.hasPrefix($0 + "(") }
    }
    /// Every column as text: values travel in PostgreSQL's text form.
    var selectList: String { Self.textList(columns) }

    /// `"a"::text AS backfill_0, …`: renamed, because `ORDER BY "a"` would otherwise sort by an
    /// output column called `a` — the text — instead of the table's column.
    static func textList(_ columns: [String]) -> String {
        columns.enumerated().map { "\(Identifier.quoted($1))::text AS backfill_\($0)" }.joined(separator: ", ")
    }

    /// `(CAST($1 AS t1), CAST($2 AS t2))` for a key, appending the values to `binds`.
    func keyValues(_ values: [Value], binds: inout PostgresBindings) -> String {
        let placeholders = zip(values, keyTypes).map { value, type in
            PostgresValueBinding.append(value, to: &binds)
            return "CAST($\(binds.count) AS \(type))"
        }
        return "(" + placeholders.joined(separator: ", ") + ")"
    }

    /// `WHERE …` for the range, the cursor and `range.where` (empty when there is no condition).
    /// The cursor replaces the lower bound: with both, PostgreSQL may start the scan at the bound.
    func conditions(range: KeyRange, after cursor: [Value]?, binds: inout PostgresBindings) -> String {
        var parts: [String] = []
        if let whereClause { parts.append("(\(whereClause))") }
        if let cursor {
            parts.append("\(keyTuple) > \(keyValues(cursor, binds: &binds))")
        } else if let lower = range.lower {
            parts.append("\(keyTuple) >= \(keyValues(lower, binds: &binds))")
        }
        if let upper = range.upper { parts.append("\(keyTuple) < \(keyValues(upper, binds: &binds))") }
        return parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND ")
    }

    /// One keyset page of at most `limit` rows.
    func page(range: KeyRange, after cursor: [Value]?, limit: Int) -> PostgresQuery {
        var binds = PostgresBindings()
        let filter = conditions(range: range, after: cursor, binds: &binds)
        return PostgresQuery(
            unsafeSQL: "SELECT \(selectList) FROM \(quotedTable)\(filter) ORDER BY \(orderBy) LIMIT \(max(1, limit))", binds: binds)
    }

    /// The rows whose key is one of `keys`.
    func rows(withKeys keys: [[Value]]) -> PostgresQuery {
        var binds = PostgresBindings()
        let list = keys.map { keyValues($0, binds: &binds) }.joined(separator: ", ")
        return PostgresQuery(unsafeSQL: "SELECT \(selectList) FROM \(quotedTable) WHERE \(keyTuple) IN (\(list))", binds: binds)
    }
}

/// Binds a `Value` as a query parameter of the matching wire type.
enum PostgresValueBinding {
    static func append(_ value: Value, to binds: inout PostgresBindings) {
        switch value {
        case .null: binds.appendNull()
        case .integer(let v): binds.append(v)
        case .real(let v): binds.append(v)
        case .text(let v): binds.append(v)
        case .blob(let v): binds.append(ByteBuffer(bytes: v))
        }
    }
}
