import BackfillCore

/// Builds keyset-pagination SQL over a (possibly composite) key; values are always bound.
struct KeysetSQL: Sendable {
    let table: String
    let columns: [String]
    let key: [String]
    let whereClause: String?
    /// The attached database the table lives in, if not `main`.
    var schema: String? = nil

    /// `"k"` or `("k1", "k2")`.
    var keyTuple: String {
        key.count == 1 ? Identifier.quoted(key[0]) : "(" + key.map(Identifier.quoted).joined(separator: ", ") + ")"
    }

    /// `?` or `(?, ?)`, matching `keyTuple`.
    var placeholders: String {
        key.count == 1 ? "?" : "(" + Array(repeating: "?", count: key.count).joined(separator: ", ") + ")"
    }

    /// Conditions for a range and cursor, with their arguments in order.
    ///
    /// With a cursor the range's lower bound is left out: the cursor lies inside the range, and
    /// given both SQLite may start its index range at the chunk's start and step over every row
    /// already done, which makes each batch slower than the last.
    func conditions(range: KeyRange, after cursor: [Value]?) -> (sql: String, arguments: [Value]) {
        var parts: [String] = []
        var arguments: [Value] = []
        if let whereClause { parts.append("(\(whereClause))") }
        if let lower = range.lower, cursor == nil {
            parts.append("\(keyTuple) >= \(placeholders)")
            arguments += lower
        }
        if let upper = range.upper {
            parts.append("\(keyTuple) < \(placeholders)")
            arguments += upper
        }
        if let cursor {
            parts.append("\(keyTuple) > \(placeholders)")
            arguments += cursor
        }
        return (parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND "), arguments)
    }

    /// `key IN (VALUES (?, …), …)` for `count` keys, their values bound in order.
    func keyIn(count: Int) -> String {
        let row = "(" + Array(repeating: "?", count: key.count).joined(separator: ", ") + ")"
        return "\(keyTuple) IN (VALUES \(Array(repeating: row, count: count).joined(separator: ", ")))"
    }

    var orderBy: String { " ORDER BY " + key.map(Identifier.quoted).joined(separator: ", ") }

    var selectList: String { columns.map(Identifier.quoted).joined(separator: ", ") }

    var quotedTable: String { (schema.map { Identifier.quoted($0) + "." } ?? "") + Identifier.quoted(table) }

    /// `SELECT columns FROM table WHERE … ORDER BY key LIMIT ?`.
    func page(range: KeyRange, after cursor: [Value]?, limit: Int) -> (sql: String, arguments: [Value]) {
        let (conditions, arguments) = conditions(range: range, after: cursor)
        return ("SELECT \(selectList) FROM \(quotedTable)\(conditions)\(orderBy) LIMIT ?", arguments + [.integer(Int64(limit))])
    }
}
