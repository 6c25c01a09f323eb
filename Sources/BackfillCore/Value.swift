/// One column value as it travels from a source to a sink.
///
/// The storage classes follow SQLite's (NULL, INTEGER, REAL, TEXT, BLOB): every engine
/// `backfill` reads can be mapped onto them without loss, and sinks convert them to their
/// own column types.
public enum Value: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// `true` for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Whether a database would consider both values the same stored value
    /// (`a IS b` in SQL): `1` and `1.0` are the same, `'1'` and `1` are not.
    public func isSameStoredValue(as other: Value) -> Bool {
        switch (self, other) {
        case (.integer(let a), .real(let b)), (.real(let b), .integer(let a)):
            return Double(a) == b
        case (.text(let a), .text(let b)):
            // Byte for byte, as the database stores it: Swift's `==` would call canonically
            // equivalent Unicode forms equal, and a row in the other form would never be repaired.
            return a.utf8.elementsEqual(b.utf8)
        case (.real(let a), .real(let b)):
            // NaN is one value to the engines (PostgreSQL orders it above every number and calls it
            // equal to itself), so it is to change detection and verify.
            return a == b || (a.isNaN && b.isNaN)
        default:
            return self == other
        }
    }

    /// Orders values the way SQLite does: NULL < numbers < text < blobs.
    public static func compare(_ lhs: Value, _ rhs: Value) -> Int {
        switch (lhs, rhs) {
        case (.null, .null): return 0
        case (.null, _): return -1
        case (_, .null): return 1
        case (.integer(let a), .integer(let b)): return a < b ? -1 : (a == b ? 0 : 1)
        case (.integer(let a), .real(let b)): return compareDoubles(Double(a), b)
        case (.real(let a), .integer(let b)): return compareDoubles(a, Double(b))
        case (.real(let a), .real(let b)): return compareDoubles(a, b)
        case (.integer, _), (.real, _): return -1
        case (_, .integer), (_, .real): return 1
        case (.text(let a), .text(let b)): return compareBytes(Array(a.utf8), Array(b.utf8))
        case (.text, .blob): return -1
        case (.blob, .text): return 1
        case (.blob(let a), .blob(let b)): return compareBytes(a, b)
        }
    }

    /// NaN sorts above every number and equals itself, as in PostgreSQL.
    private static func compareDoubles(_ a: Double, _ b: Double) -> Int {
        if a.isNaN || b.isNaN { return a.isNaN == b.isNaN ? 0 : (a.isNaN ? 1 : -1) }
        return a < b ? -1 : (a == b ? 0 : 1)
    }

    private static func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
        for (x, y) in zip(a, b) where x != y {
            return x < y ? -1 : 1
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

extension Value: CustomStringConvertible {
    /// A short, human readable rendering, used for keys in reports.
    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .text(let v): return v
        case .blob(let v): return "x'" + v.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined() + "'"
        }
    }
}
