import Foundation

/// The type matrix's data: the value sets the established table-diff tools test with (integers at
/// the extremes; timestamps with 0, 3 and 6 fractional digits, with and without zone; floats with
/// 1/3, ±Infinity, NaN, −0 and denormals, float4; numerics at several scales and with 40+ digits,
/// NaN and Infinity; uuids as native, char(36) and text; booleans; json and jsonb; text with
/// spaces, tabs and the empty string), under every key kind, as literals for each engine.
enum TypeMatrix {
    enum Engine: Sendable { case postgres, sqlite }

    /// Which way rows travel; the value sets leave out what the target engine cannot hold (a NaN
    /// never reaches SQLite: it is quarantined, which `NaNIntoSQLite` tests on its own).
    enum Direction: String, CaseIterable, Sendable, CustomStringConvertible {
        case postgresToPostgres = "PG→PG", sqliteToPostgres = "SQLite→PG", postgresToSQLite = "PG→SQLite"
        var description: String { rawValue }
        var source: Engine { self == .sqliteToPostgres ? .sqlite : .postgres }
        var target: Engine { self == .postgresToSQLite ? .sqlite : .postgres }
        var nanAllowed: Bool { self == .postgresToPostgres }
    }

    enum KeyKind: String, CaseIterable, Sendable, CustomStringConvertible {
        case integer, text, uuid, integerPair = "int/int", uuidInteger = "uuid/int"
        var description: String { rawValue }

        var columns: [String] {
            switch self {
            case .integer, .text, .uuid: ["k"]
            case .integerPair, .uuidInteger: ["k1", "k2"]
            }
        }

        func types(_ engine: Engine) -> [String] {
            switch (self, engine) {
            case (.integer, .postgres): ["bigint"]
            case (.text, .postgres): ["text"]
            case (.uuid, .postgres): ["uuid"]
            case (.integerPair, .postgres): ["integer", "integer"]
            case (.uuidInteger, .postgres): ["uuid", "integer"]
            case (.integer, .sqlite), (.integerPair, .sqlite): ["INTEGER", "INTEGER"]
            case (.text, .sqlite), (.uuid, .sqlite): ["TEXT"]
            case (.uuidInteger, .sqlite): ["TEXT", "INTEGER"]
            }
        }

        /// The key of row `r` as SQL literals (the same in both engines).
        func literals(_ r: Int) -> [String] {
            switch self {
            case .integer:
                let extremes = ["-9223372036854775808", "9223372036854775807", "-1", "0"]
                return [r < extremes.count ? extremes[r] : String(r * 1_000_003 - 7)]
            case .text:
                let special = ["''", "' '", "'a b'", "'zz top'"]
                return [r < special.count ? special[r] : "'key \(r)'"]
            case .uuid: return [TypeMatrix.uuid(r)]
            case .integerPair: return [String(r / 3), String(r % 3 - 1)]
            case .uuidInteger: return [TypeMatrix.uuid(r / 2), String(r % 2)]
            }
        }

        /// The key of row `r` as `verify --json` reports it (`i` or `t` members, comma-joined).
        func reported(_ r: Int) -> String {
            literals(r).map { $0.hasPrefix("'") ? String($0.dropFirst().dropLast()) : $0 }.joined(separator: ",")
        }
    }

    static func uuid(_ n: Int) -> String { "'" + String(format: "%08x-0000-4000-8000-%012d", n * 7919, n) + "'" }

    /// A value column: its type in each engine and its literal for row `r` (`nil`: NULL).
    struct Column: Sendable {
        var name: String
        var postgres: String
        var sqlite: String
        var values: @Sendable (_ r: Int, _ engine: Engine, _ nan: Bool) -> String
    }

    static func cycle(_ values: [String]) -> @Sendable (Int, Engine, Bool) -> String {
        { r, _, _ in values[r % values.count] }
    }

    static let columns: [Column] = [
        Column(name: "i2", postgres: "smallint", sqlite: "INTEGER", values: cycle(["-32768", "32767", "0", "-1", "1"])),
        Column(name: "i4", postgres: "integer", sqlite: "INTEGER", values: cycle(["-2147483648", "2147483647", "0", "42"])),
        Column(name: "i8", postgres: "bigint", sqlite: "INTEGER", values: cycle(["-9223372036854775808", "9223372036854775807", "0", "-1"])),
        Column(name: "f8", postgres: "double precision", sqlite: "REAL", values: { r, engine, nan in
            let postgres = ["'0.3333333333333333'", "'Infinity'", "'-Infinity'", "'-0'", "'5e-324'", "'1.7976931348623157e308'", "'2.5'", "'NaN'"]
            let sqlite = ["0.3333333333333333", "9e999", "-9e999", "-0.0", "4.9406564584124654e-324", "1.7976931348623157e308", "2.5", "NULL"]
            let i = r % (nan ? 8 : 7)
            return engine == .postgres ? postgres[i] : sqlite[i]
        }),
        Column(name: "f4", postgres: "real", sqlite: "REAL", values: { r, engine, nan in
            let postgres = ["'0.33333334'", "'Infinity'", "'1.4e-45'", "'-0'", "'3.4028235e38'", "'NaN'"]
            let sqlite = ["0.3333333432674408", "9e999", "1.401298464324817e-45", "-0.0", "3.4028234663852886e38", "NULL"]
            let i = r % (nan ? 6 : 5)
            return engine == .postgres ? postgres[i] : sqlite[i]
        }),
        Column(name: "n2", postgres: "numeric(12,2)", sqlite: "NUMERIC", values: cycle(["'0.00'", "'-9999999999.99'", "'1.25'", "'12345.67'"])),
        Column(name: "nb", postgres: "numeric", sqlite: "TEXT", values: cycle([
            "'1234567890123456789012345678901234567890.123'", "'NaN'", "'Infinity'", "'-0.000001'", "'3.14159265358979323846264338327950288'",
        ])),
        Column(name: "ts0", postgres: "timestamp(0)", sqlite: "TEXT", values: cycle(["'2024-01-01 00:00:00'", "'1999-12-31 23:59:59'"])),
        Column(name: "ts3", postgres: "timestamp(3)", sqlite: "TEXT", values: cycle(["'2024-01-01 00:00:00.123'", "'2000-02-29 12:00:00.5'"])),
        Column(name: "ts6", postgres: "timestamp", sqlite: "TEXT", values: cycle(["'2024-02-29 12:34:56.123456'", "'2024-01-01 00:00:00'"])),
        Column(name: "tz6", postgres: "timestamptz", sqlite: "TEXT", values: cycle(["'2024-01-01 00:00:00.123456+00'", "'2024-06-01 12:00:00+05:30'"])),
        Column(name: "tz3", postgres: "timestamptz(3)", sqlite: "TEXT", values: cycle(["'2024-03-10 08:00:00.001+00'", "'2023-12-31 23:00:00-01'"])),
        Column(name: "u", postgres: "uuid", sqlite: "TEXT", values: { r, _, _ in uuid(r + 100) }),
        Column(name: "uc", postgres: "char(36)", sqlite: "TEXT", values: { r, _, _ in uuid(r + 200) }),
        Column(name: "ut", postgres: "text", sqlite: "TEXT", values: { r, _, _ in uuid(r + 300) }),
        Column(name: "b", postgres: "boolean", sqlite: "BOOLEAN", values: { r, engine, _ in
            engine == .postgres ? (r % 2 == 0 ? "true" : "false") : (r % 2 == 0 ? "1" : "0")
        }),
        Column(name: "j", postgres: "json", sqlite: "TEXT", values: cycle([
            "'{\"b\": 2, \"a\": [1, 2.50, \"x\"]}'", "'{\"a\":1}'", "'{\"b\": 2, \"a\": [1, 2.50, \"x\"]}'", "'[]'", "'null'",
        ])),
        Column(name: "jb", postgres: "jsonb", sqlite: "TEXT", values: cycle(["'{\"a\": {\"c\": [true, null]}, \"b\": 2}'", "'{}'", "'[1, \"two\"]'"])),
        Column(name: "t", postgres: "text", sqlite: "TEXT", values: cycle([
            "''", "' spaced  '", "'tab\there'", "'quote''s \"x\"'", "'ünïcödé Ω'", "'back\\slash'",
        ])),
    ]

    static let rows = 40
    /// Row 5's value columns are all NULL.
    static let nullRow = 5

    static func ddl(_ engine: Engine, key: KeyKind, table: String = "matrix") -> String {
        let keys = zip(key.columns, key.types(engine)).map { "\($0) \($1) NOT NULL" }
        let values = columns.map { "\($0.name) \(engine == .postgres ? $0.postgres : $0.sqlite)" }
        return "CREATE TABLE \(table) (\((keys + values).joined(separator: ", ")), PRIMARY KEY (\(key.columns.joined(separator: ", "))));"
    }

    static func inserts(_ engine: Engine, key: KeyKind, nan: Bool) -> String {
        let names = (key.columns + columns.map(\.name)).joined(separator: ", ")
        let rows = (0..<rows).map { r in
            let values = columns.map { r == nullRow ? "NULL" : $0.values(r, engine, nan) }
            return "(" + (key.literals(r) + values).joined(separator: ", ") + ")"
        }
        return "INSERT INTO matrix (\(names)) VALUES \(rows.joined(separator: ",\n")); "
    }

    /// One damage: row `r`'s column set to a literal, in the target's engine.
    struct Damage: Sendable {
        var row: Int
        var column: String
        var postgres: String
        var sqlite: String
    }

    /// The last microsecond, the last decimal digit, one float ULP, json white space, a value set to NULL.
    static let damage: [Damage] = [
        Damage(row: 0, column: "ts6", postgres: "'2024-02-29 12:34:56.123457'", sqlite: "'2024-02-29 12:34:56.123457'"),
        Damage(row: 0, column: "f8", postgres: "'0.33333333333333337'", sqlite: "0.33333333333333337"),
        Damage(row: 1, column: "n2", postgres: "'-9999999999.98'", sqlite: "-9999999999.98"),
        Damage(row: 2, column: "j", postgres: "'{\"b\":2,\"a\":[1,2.50,\"x\"]}'", sqlite: "'{\"b\":2,\"a\":[1,2.50,\"x\"]}'"),
        Damage(row: 3, column: "t", postgres: "NULL", sqlite: "NULL"),
        Damage(row: 7, column: "tz6", postgres: "'2024-06-01 12:00:00.000001+05:30'", sqlite: "'2024-06-01 06:30:00.000001+00'"),
    ]

    static func damageSQL(_ engine: Engine, key: KeyKind) -> String {
        damage.map { d in
            let condition = zip(key.columns, key.literals(d.row)).map { "\($0) = \($1)" }.joined(separator: " AND ")
            return "UPDATE matrix SET \(d.column) = \(engine == .postgres ? d.postgres : d.sqlite) WHERE \(condition);"
        }.joined(separator: "\n")
    }

    /// What `verify` must report for `damage`: `different KEY (columns)`, sorted.
    static func expectedDifferences(key: KeyKind) -> [String] {
        Dictionary(grouping: damage, by: \.row).map { row, parts in
            "different \(key.reported(row)) (\(parts.map(\.column).sorted { a, b in order(a) < order(b) }.joined(separator: ",")))"
        }.sorted()
    }

    private static func order(_ column: String) -> Int { columns.firstIndex { $0.name == column } ?? 0 }
}
