import BackfillCore
import Foundation

/// A PostgreSQL column type as `backfill` handles it: how its text form becomes a `Value`, and
/// whether it can cross to another engine.
///
/// Values travel in PostgreSQL's text form (every type has one), so PostgreSQL → PostgreSQL copies
/// any type exactly. Only integers, floats, booleans and `bytea` are turned into typed values;
/// everything else (numeric, timestamps, json, uuid, arrays, …) stays text, which keeps numeric
/// scale and timestamp precision and costs no conversion.
public struct PostgresColumnType: Sendable, Hashable {
    /// `pg_type.typname` (`int8`, `numeric`, `_text` for `text[]`, …).
    public var name: String
    /// `format_type(…)`: what `\d` shows (`bigint`, `numeric(12,2)`, `text[]`).
    public var formatted: String

    public init(name: String, formatted: String) {
        self.name = name
        self.formatted = formatted
    }

    /// `text`: how a column the catalog did not describe is read and bound.
    static let text = PostgresColumnType(name: "text", formatted: "text")

    enum Representation: Sendable { case integer, real, boolean, bytes, text }

    var representation: Representation {
        switch name {
        case "int2", "int4", "int8", "oid": return .integer
        case "float4", "float8": return .real
        case "bool": return .boolean
        case "bytea": return .bytes
        default: return .text
        }
    }

    /// How incoming values are typed before they are written — the same form `value(fromText:)`
    /// reads back, so a written row compares equal to its source. PostgreSQL parses the text of
    /// every other type itself.
    var affinity: ColumnAffinity {
        switch representation {
        case .integer: return .integer
        case .real: return .real
        case .bytes: return .blob
        case .boolean: return .boolean
        case .text: return .text
        }
    }

    private static let portable: Set<String> = [
        "int2", "int4", "int8", "numeric", "float4", "float8", "text", "varchar", "bpchar", "bool", "bytea",
        "json", "jsonb", "timestamptz", "timestamp", "date", "time", "uuid",
    ]

    /// Whether values of this type have a faithful form in SQLite and in CSV/JSONL files: the
    /// types above and one-dimensional arrays of them (as PostgreSQL's array literal text).
    public var crossesEngines: Bool {
        Self.portable.contains(name) || (name.hasPrefix("_") && Self.portable.contains(String(name.dropFirst())))
    }

    /// How `verify` compares this type with another engine's values (see `CanonicalKind`).
    public var canonicalKind: CanonicalKind {
        switch name {
        case "int2", "int4", "int8", "oid": .integer
        case "float4": .float4
        case "float8": .real
        case "numeric": .decimal
        case "bool": .boolean
        case "bytea": .bytes
        case "jsonb": .json
        // `json` keeps its text as written, and the sink compares it by that text: so does verify.
        case "uuid": .uuid
        case "date": .date
        case "timestamptz": .timestamp
        case "timestamp": .localTimestamp
        default: .text
        }
    }

    /// The `Value` for a cell's text form (`nil` = NULL).
    func value(fromText text: String?) -> Value {
        guard let text else { return .null }
        switch representation {
        case .integer:
            return Int64(text).map(Value.integer) ?? .text(text)
        case .real:
            switch text {
            case "NaN": return .real(.nan)
            case "Infinity": return .real(.infinity)
            case "-Infinity": return .real(-.infinity)
            // A `real` is read as the float4 it is, widened exactly: its shortest text ("0.33333334")
            // read as a double would be another number than the one stored.
            default: return (name == "float4" ? Float(text).map(Double.init) : Double(text)).map(Value.real) ?? .text(text)
            }
        case .boolean:
            // `bool::text` is `true`/`false`; the output function says `t`/`f`.
            return .integer(text == "true" || text == "t" ? 1 : 0)
        case .bytes:
            return Self.bytes(fromHex: text).map(Value.blob) ?? .text(text)
        case .text:
            return .text(text)
        }
    }

    /// Decodes `bytea`'s hex output (`\x0aff…`).
    static func bytes(fromHex text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension PostgresColumnType {
    private static let hashable: Set<String> = [
        "int2", "int4", "int8", "numeric", "float4", "float8", "text", "varchar", "bpchar", "bool", "bytea",
        "jsonb", "timestamptz", "timestamp", "date", "time", "uuid", "interval", "inet", "oid",
    ]

    /// Whether the type is compared by its own equality and hash (`IS DISTINCT FROM`,
    /// `hash_record_extended`; arrays of such types too). Every other type (`json`, `xml`, `point`
    /// and the geometric types, types of extensions) is compared and hashed by its text form — the
    /// one definition of "equal" of the sink's merge and of `verify`, so a type without `=` never
    /// breaks a run, and a `json` value that differs only in white space is a difference.
    var hashesNatively: Bool {
        Self.hashable.contains(name) || (name.hasPrefix("_") && Self.hashable.contains(String(name.dropFirst())))
    }
}

extension PostgresColumnType {
    /// What the column cannot hold exactly: a double that is not a float4 (`real`), more decimal
    /// places than `numeric(p, s)` keeps, finer fractions of a second than `timestamp(n)` keeps.
    var fit: ValueFit? {
        switch name {
        case "float4": return .float4
        case "numeric": return modifier(at: 1).map(ValueFit.decimalPlaces)
        case "timestamp", "timestamptz", "time", "timetz": return modifier(at: 0).map(ValueFit.secondFractionDigits)
        default: return nil
        }
    }

    /// The `index`th number of the type's modifier in `formatted` (`numeric(12,2)` → 12, 2;
    /// `timestamp(3) with time zone` → 3).
    private func modifier(at index: Int) -> Int? {
        guard let open = formatted.firstIndex(of: "("), let close = formatted[open...].firstIndex(of: ")") else { return nil }
        let numbers = formatted[formatted.index(after: open)..<close].split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return index < numbers.count ? numbers[index] : nil
    }
}

