import BackfillCore

/// A MySQL/MariaDB column type as `backfill` handles it: how its text-protocol bytes become a
/// `Value`, how incoming values are typed for it, and how two values of it are compared.
///
/// Integers, floats and binary strings become typed values; DECIMAL, dates and times, JSON, ENUM,
/// SET and character strings stay text, which keeps a DECIMAL's scale and a DATETIME(6)'s
/// microseconds and costs no conversion. A DECIMAL(p,s) or DATETIME(n) refuses a value it would
/// round (MySQL rounds silently, even in strict mode): such a row is quarantined with the reason.
public struct MySQLColumnType: Sendable, Hashable {
    /// `information_schema.COLUMNS.DATA_TYPE`, lower-cased (`bigint`, `decimal`, `varbinary`).
    public var dataType: String
    /// `COLUMN_TYPE`: the full declaration (`bigint(20) unsigned`, `decimal(12,2)`, `binary(16)`).
    public var columnType: String
    /// `NUMERIC_SCALE` of a DECIMAL; `DATETIME_PRECISION` of a DATETIME, TIMESTAMP or TIME.
    public var scale: Int?
    /// `CHARACTER_SET_NAME` and `COLLATION_NAME` of a character column.
    public var charset: String?
    public var collation: String?

    public init(dataType: String, columnType: String, scale: Int? = nil, charset: String? = nil, collation: String? = nil) {
        self.dataType = dataType.lowercased()
        self.columnType = columnType.lowercased()
        self.scale = scale
        self.charset = charset?.lowercased()
        self.collation = collation?.lowercased()
    }

    enum Representation: Sendable { case integer, real, float4, bytes, text }

    var representation: Representation {
        switch dataType {
        case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year": return .integer
        case "double", "real": return .real
        case "float": return .float4
        case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit": return .bytes
        // Spatial values travel as MySQL's internal bytes (SRID and WKB), never as text.
        case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
            "geometrycollection":
            return .bytes
        default: return .text
        }
    }

    /// The column as `backfill` orders and compares keys: integers and binary strings as they are
    /// (on their index); character columns as the UTF-8 bytes of their value — `BINARY col` for a
    /// UTF-8 column, converted first for another character set (latin1's `é` is one byte, which
    /// would not compare with the UTF-8 cursor) — whatever the column's collation.
    func byteOrdered(_ quotedColumn: String) -> String {
        guard representation == .text else { return quotedColumn }
        switch charset {
        case nil, "utf8mb4", "utf8mb3", "utf8", "ascii", "binary": return "BINARY \(quotedColumn)"
        default: return "CAST(CONVERT(\(quotedColumn) USING utf8mb4) AS BINARY)"
        }
    }

    /// Whether the server may find a key of this column equal to another with other bytes (a
    /// case- or accent-insensitive collation, trailing spaces): keys are then matched by the server.
    var matchesLoosely: Bool {
        guard representation == .text else { return false }
        return !(collation?.hasSuffix("_bin") ?? false)
    }

    /// How incoming values are typed before they are written.
    var affinity: ColumnAffinity {
        switch representation {
        // Beyond Int64, a number would become a double: the digits go as text, and the server
        // reads them as the integer they are (or refuses them).
        case .integer where dataType == "bigint" && columnType.contains("unsigned"): return .text
        case .integer: return .integer
        case .real, .float4: return .real
        case .bytes: return .blob
        case .text: return .text
        }
    }

    /// A value the column would store as another value is refused (the row is quarantined).
    var fit: ValueFit? {
        switch dataType {
        case "decimal", "numeric": return scale.map(ValueFit.decimalPlaces)
        case "datetime", "timestamp", "time": return .secondFractionDigits(scale ?? 0)
        case "float": return .float4
        default: return nil
        }
    }

    /// How values of this column are compared, by the sink's change detection and by `verify`
    /// alike: one definition of "equal".
    public var canonicalKind: CanonicalKind {
        switch representation {
        case .integer: return .integer
        case .real: return .real
        case .float4: return .float4
        case .bytes: return .bytes
        case .text:
            switch dataType {
            case "decimal", "numeric": return .decimal
            case "date": return .date
            // Written in UTC (`MySQLSQL.literal`): a timestamp with an offset is that instant.
            case "datetime", "timestamp": return .utcDateTime
            case "json": return .json
            default: return .text
            }
        }
    }

    /// A `DATETIME` or `TIMESTAMP` column.
    var holdsTimestamp: Bool { dataType == "datetime" || dataType == "timestamp" }

    /// How a value of this column is selected so that its text holds the value exactly: a `FLOAT`
    /// widened to a `DOUBLE` (exact), whose shortest form reads back as the same float.
    func selected(_ quotedColumn: String) -> String {
        representation == .float4 ? "(\(quotedColumn) + 0E0)" : quotedColumn
    }

    /// The column's text in UTF-8 (`CONVERT … USING utf8mb4` for another character set); the
    /// column itself for UTF-8 text and for bytes.
    func inUTF8(_ quotedColumn: String) -> String {
        switch charset?.lowercased() {
        case nil, "utf8mb4", "utf8mb3", "utf8", "ascii", "binary": return quotedColumn
        default: return "CONVERT(\(quotedColumn) USING utf8mb4)"
        }
    }

    /// Whether the column's values print without a `#` (numbers and times), so that a row hash
    /// can join them by `#` as they print (`MySQLRowHashSQL`).
    var printsWithoutHash: Bool {
        switch dataType {
        case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year", "decimal", "numeric", "float", "double",
            "real", "date", "datetime", "timestamp", "time":
            return true
        default:
            return false
        }
    }

    /// The `Value` of a cell's text-protocol bytes (`nil` = NULL).
    func value(from bytes: [UInt8]?) -> Value {
        guard let bytes else { return .null }
        switch representation {
        case .bytes:
            return .blob(bytes)
        case .integer:
            let text = String(decoding: bytes, as: UTF8.self)
            // BIGINT UNSIGNED above Int64's range stays text (refused by integer targets, exact elsewhere).
            return Int64(text).map(Value.integer) ?? .text(text)
        case .real:
            let text = String(decoding: bytes, as: UTF8.self)
            return Double(text).map(Value.real) ?? .text(text)
        case .float4:
            // A FLOAT is read as the float it is, widened exactly.
            let text = String(decoding: bytes, as: UTF8.self)
            return Float(text).map { Value.real(Double($0)) } ?? .text(text)
        case .text:
            return .text(String(decoding: bytes, as: UTF8.self))
        }
    }
}
