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

    public init(dataType: String, columnType: String, scale: Int? = nil) {
        self.dataType = dataType.lowercased()
        self.columnType = columnType.lowercased()
        self.scale = scale
    }

    enum Representation: Sendable { case integer, real, float4, bytes, text }

    var representation: Representation {
        switch dataType {
        case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year": return .integer
        case "double", "real": return .real
        case "float": return .float4
        case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit": return .bytes
        default: return .text
        }
    }

    /// Whether the column's order is its bytes' (integers, binary strings): keys of such columns
    /// are compared and sorted by the server on its index. Character keys are compared as
    /// `BINARY` bytes, the order `backfill` keeps everywhere, whatever the column's collation.
    var ordersByBytes: Bool { representation != .text }

    /// How incoming values are typed before they are written.
    var affinity: ColumnAffinity {
        switch representation {
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
        switch dataType {
        case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year": return .integer
        case "double", "real": return .real
        case "float": return .float4
        case "decimal", "numeric": return .decimal
        case "date": return .date
        case "datetime", "timestamp": return .localTimestamp
        case "json": return .json
        case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit": return .bytes
        default: return .text
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
