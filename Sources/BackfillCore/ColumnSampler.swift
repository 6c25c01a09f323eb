import Foundation

/// Infers a column's type from sample values, for a target created from a CSV or JSONL export:
/// the narrowest of integers, decimals (numeric), reals, booleans, timestamps with and without a
/// zone, dates and JSON that every non-NULL value of the sample is, text otherwise; and whether
/// the sample held a NULL.
///
/// A value is only taken as a type whose text form gives it back exactly: `007` stays text (an
/// integer would drop its zeros), `1.50` is a decimal (a numeric keeps the zero), a value with
/// surrounding spaces is text.
public struct ColumnSampler: Sendable {
    private enum Kind: CaseIterable { case integer, decimal, real, boolean, timestamptz, timestamp, date, json }

    private var possible = Set(Kind.allCases)
    public private(set) var values = 0
    public private(set) var nulls = 0
    /// The most significant digits of a number seen (a SQLite NUMERIC keeps 15).
    private var digits = 0

    public init() {}

    public mutating func observe(_ value: Value) {
        values += 1
        switch value {
        case .null:
            nulls += 1
        case .integer:
            possible.formIntersection([.integer, .decimal, .real])
        case .real:
            possible.formIntersection([.real])
        case .blob:
            possible.removeAll()
        case .text(let text):
            let number = Self.numberShape(text)
            let moment = possible.isDisjoint(with: [.timestamptz, .timestamp, .date]) ? nil : Moment(text)
            possible = possible.filter { Self.matches(text, $0, number: number, moment: moment) }
            if possible.contains(.decimal) { digits = max(digits, Self.significantDigits(text)) }
        }
    }

    /// The column's PostgreSQL type.
    public var postgresType: String {
        switch kind {
        case .integer: "bigint"
        case .decimal: "numeric"
        case .real: "double precision"
        case .boolean: "boolean"
        case .timestamptz: "timestamptz"
        case .timestamp: "timestamp"
        case .date: "date"
        case .json: "jsonb"
        case nil: "text"
        }
    }

    /// The column's SQLite type: numbers by affinity, the rest as TEXT (SQLite's own form for them).
    public var sqliteType: String {
        switch kind {
        case .integer: "INTEGER"
        case .real: "REAL"
        case .decimal where digits <= 15: "NUMERIC"
        default: "TEXT"
        }
    }

    /// Whether the sample held a NULL (or no value at all).
    public var sawNull: Bool { nulls > 0 || values == 0 }

    /// In order of preference; `nil`: text (or only NULLs seen).
    private var kind: Kind? {
        guard values > nulls else { return nil }
        return Kind.allCases.first { possible.contains($0) }
    }

    /// Whether `text` is a value of `kind`; `number` is its `numberShape` and `moment` its date
    /// and time, each found once per value.
    private static func matches(_ text: String, _ kind: Kind, number: Kind?, moment: Moment?) -> Bool {
        switch kind {
        case .integer:
            return number == .integer && Int64(text) != nil && !isNegativeZero(text)
        case .decimal:
            return (number == .integer || number == .decimal) && !isNegativeZero(text)
        case .real:
            // Not a value a double cannot hold: an overflow, or a non-zero that underflows to 0.
            guard number != nil, let double = Double(text), double.isFinite else {
                return false
            }
            return double != 0 || !text.contains(where: { $0 >= "1" && $0 <= "9" }) && !text.hasPrefix("-")
        case .boolean:
            return text == "true" || text == "false"
        case .timestamptz:
            return moment?.shape == .timestamptz
        case .timestamp:
            return moment?.shape == .timestamp
        case .date:
            return moment?.shape == .date
        case .json:
            guard let first = text.first, first == "{" || first == "[" else { return false }
            return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil
        }
    }

    /// The shape of `text` as a number literal: `.integer` for `-?(0|[1-9][0-9]*)`, `.decimal` when a
    /// fraction `.[0-9]+` follows, `.real` when an exponent `[eE][-+]?[0-9]+` ends it; `nil` for any
    /// other text. Scanned by hand: most sampled values are tested as numbers first.
    private static func numberShape(_ text: String) -> Kind? {
        let bytes = Array(text.utf8)
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        var index = bytes.first == UInt8(ascii: "-") ? 1 : 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            return index - start
        }
        let whole = index
        guard digits() > 0, bytes[whole] != UInt8(ascii: "0") || index == whole + 1 else { return nil }
        var shape = Kind.integer
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return nil }
            shape = .decimal
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
            guard digits() > 0 else { return nil }
            shape = .real
        }
        return index == bytes.count ? shape : nil
    }

    /// `-0`, `-0.00`: PostgreSQL and SQLite store them without the sign, so they stay text.
    private static func isNegativeZero(_ text: String) -> Bool {
        text.hasPrefix("-") && !text.contains(where: { $0 >= "1" && $0 <= "9" })
    }

    /// The significant digits of a plain decimal (`0.00120` → 3).
    private static func significantDigits(_ text: String) -> Int {
        let digits = text.filter(\.isASCII).filter(\.isNumber).drop { $0 == "0" }
        return digits.count
    }
}
