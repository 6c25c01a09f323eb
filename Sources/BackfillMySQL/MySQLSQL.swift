import BackfillCore

/// The pieces of MySQL SQL `backfill` builds: quoted names, value literals and keyset conditions.
/// Values are never spliced in as text: strings and bytes go as hex literals, so no value can
/// end its quoting whatever it holds or however the server escapes.
enum MySQLSQL {
    /// `` `name` ``, embedded backticks doubled (a `.` is part of the name: tables are named in
    /// the DSN's database).
    static func quoted(_ name: String) -> String {
        var quoted = String.UnicodeScalarView()
        quoted.append("`")
        for scalar in name.unicodeScalars {
            if scalar == "`" { quoted.append(contentsOf: ["`", "`"]) } else { quoted.append(scalar) }
        }
        quoted.append("`")
        return String(quoted)
    }

    /// A literal for `value`: integers as digits, doubles in a form that reads back as the same
    /// double, text as a utf8mb4 hex literal, bytes as a hex literal. For an integer `column`, text
    /// of digits (a BIGINT UNSIGNED beyond Int64) goes as the number it is, never as a string
    /// compared as a double.
    /// A timestamp for a `DATETIME` or `TIMESTAMP` column goes in UTC, its offset applied
    /// (`2024-03-10 01:30:00+05:30` is `2024-03-09 20:00:00`; PostgreSQL's `timestamptz` always
    /// carries one, which MariaDB would refuse): every session runs with `time_zone = '+00:00'`, so
    /// a `TIMESTAMP` holds that instant, and a `DATETIME` the instant's UTC wall time.
    /// - Throws: `BackfillError` `.data` for NaN and infinities, which MySQL cannot store.
    static func literal(_ value: Value, for column: MySQLColumnType? = nil) throws -> String {
        if case .text(let digits) = value, column?.representation == .integer, isInteger(digits) { return digits }
        if case .text(let text) = value, column?.holdsTimestamp == true, let utc = CanonicalKind.utcDateTime(text) {
            // `YYYY-MM-DDTHH:MM:SS[.f]` → `YYYY-MM-DD HH:MM:SS[.f]`: ASCII digits and separators only.
            let wallTime = utc.utf8.map { $0 == UInt8(ascii: "T") ? UInt8(ascii: " ") : $0 }
            return "'" + String(decoding: wallTime, as: UTF8.self) + "'"
        }
        switch value {
        case .null: return "NULL"
        case .integer(let v): return String(v)
        case .real(let v):
            guard v.isFinite else { throw BackfillError(.writeFailed, kind: .data, "MySQL cannot store \(v) (no NaN or infinity in FLOAT or DOUBLE)") }
            // `E0` makes it a DOUBLE literal (read with strtod: the same double), never a DECIMAL one.
            let text = "\(v)"
            return text.contains("e") ? text : text + "E0"
        case .text(let v): return "_utf8mb4 X'" + hex(v.utf8) + "'"
        case .blob(let v): return "X'" + hex(v) + "'"
        }
    }

    private static func isInteger(_ text: String) -> Bool {
        let digits = text.hasPrefix("-") ? text.utf8.dropFirst() : text.utf8[...]
        return !digits.isEmpty && digits.count <= 20 && digits.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// `_utf8mb4 X'…'` of a name, for comparing with catalog columns.
    static func string(_ text: String) -> String { "_utf8mb4 X'" + hex(text.utf8) + "'" }

    private static let digits = Array("0123456789ABCDEF".utf8)

    private static func hex<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Keyset SQL over one table: the key as compared and sorted in byte order, range conditions and
/// pages. Composite keys are compared column by column (`a > x OR (a = x AND b > y)`), the form the
/// optimizer turns into an index range.
struct MySQLKeysetSQL: Sendable {
    let table: String
    let columns: [String]
    let key: [String]
    /// The key columns' types: character columns are compared as their UTF-8 bytes (whose order
    /// the collation would change), integers and binary strings as they are, on their index.
    let keyTypes: [MySQLColumnType]
    let whereClause: String?
    /// The types of `columns`, where known: a `FLOAT` is selected widened to a `DOUBLE`, which
    /// prints every digit (a `FLOAT` prints 6 significant ones: 1234567 as `1234570`).
    var columnTypes: [MySQLColumnType] = []

    var quotedTable: String { MySQLSQL.quoted(table) }
    var selectList: String {
        columns.indices.map { index in
            let quoted = MySQLSQL.quoted(columns[index])
            return index < columnTypes.count ? columnTypes[index].selected(quoted) : quoted
        }.joined(separator: ", ")
    }

    private func keyColumn(_ index: Int) -> String { keyTypes[index].byteOrdered(MySQLSQL.quoted(key[index])) }

    /// A key value's literal: as bytes for a character column (`BINARY col > X'…'`), as the
    /// column's own value otherwise.
    private func keyLiteral(_ value: Value, _ index: Int) throws -> String { try MySQLSQL.literal(value, for: keyTypes[index]) }

    var orderBy: String { key.indices.map(keyColumn).joined(separator: ", ") }
    var orderByDescending: String { key.indices.map { keyColumn($0) + " DESC" }.joined(separator: ", ") }

    /// `key > value` (`strict`) or `key >= value`, lexicographically over the key's columns.
    func compare(after value: [Value], strict: Bool) throws -> String {
        try lexicographic(value, ">", lastColumn: strict ? ">" : ">=")
    }

    /// `key < value`, lexicographically.
    func before(_ value: [Value]) throws -> String { try lexicographic(value, "<", lastColumn: "<") }

    /// One alternative per key column: the columns before it equal to `value`'s, it compared by
    /// `op` — by `lastOp` for the key's last column.
    private func lexicographic(_ value: [Value], _ op: String, lastColumn lastOp: String) throws -> String {
        var alternatives: [String] = []
        for last in key.indices {
            var parts: [String] = []
            for index in 0..<last { parts.append("\(keyColumn(index)) = \(try keyLiteral(value[index], index))") }
            parts.append("\(keyColumn(last)) \(last == key.count - 1 ? lastOp : op) \(try keyLiteral(value[last], last))")
            alternatives.append("(" + parts.joined(separator: " AND ") + ")")
        }
        return "(" + alternatives.joined(separator: " OR ") + ")"
    }

    /// ` WHERE …` for the range, the cursor (replacing the lower bound) and `range.where`; empty
    /// without conditions.
    func conditions(range: KeyRange, after cursor: [Value]?) throws -> String {
        var parts: [String] = []
        if let whereClause { parts.append("(\(whereClause))") }
        if let cursor {
            parts.append(try compare(after: cursor, strict: true))
        } else if let lower = range.lower {
            parts.append(try compare(after: lower, strict: false))
        }
        if let upper = range.upper { parts.append(try before(upper)) }
        return parts.isEmpty ? "" : " WHERE " + parts.joined(separator: " AND ")
    }

    /// Up to `limit` rows of `range` after `cursor`, in key order.
    func page(range: KeyRange, after cursor: [Value]?, limit: Int) throws -> String {
        "SELECT \(selectList) FROM \(quotedTable)\(try conditions(range: range, after: cursor)) ORDER BY \(orderBy) LIMIT \(limit)"
    }

    /// `key IN (…)` for whole keys, compared as the server compares them (the column's collation:
    /// an index lookup): `k IN (1, 2)` or `(a, b) IN ((1, 'x'), …)`.
    func keyIn(_ keys: [[Value]]) throws -> String {
        if key.count == 1 {
            return "\(MySQLSQL.quoted(key[0])) IN (" + (try keys.map { try MySQLSQL.literal($0[0], for: keyTypes[0]) }).joined(separator: ", ") + ")"
        }
        let tuple = "(" + key.map(MySQLSQL.quoted).joined(separator: ", ") + ")"
        let values = try keys.map { key in
            "(" + (try key.indices.map { try MySQLSQL.literal(key[$0], for: keyTypes[$0]) }).joined(separator: ", ") + ")"
        }
        return "\(tuple) IN (" + values.joined(separator: ", ") + ")"
    }

    /// `k1 = … AND k2 = …` for one key, compared as the server compares them.
    func keyEquals(_ values: [Value]) throws -> String {
        try key.indices.map { "\(MySQLSQL.quoted(key[$0])) = \(try MySQLSQL.literal(values[$0], for: keyTypes[$0]))" }.joined(separator: " AND ")
    }
}
