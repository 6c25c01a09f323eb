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
            possible = possible.filter { Self.matches(text, $0) }
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
        case .decimal: "NUMERIC"
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

    private static func matches(_ text: String, _ kind: Kind) -> Bool {
        switch kind {
        case .integer:
            return text.wholeMatch(of: /-?(0|[1-9][0-9]*)/) != nil && Int64(text) != nil
        case .decimal:
            return text.wholeMatch(of: /-?(0|[1-9][0-9]*)(\.[0-9]+)?/) != nil
        case .real:
            return text.wholeMatch(of: /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/) != nil && Double(text)?.isFinite == true
        case .boolean:
            return text == "true" || text == "false"
        case .timestamptz:
            return text.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}(:?[0-9]{2})?)/) != nil
        case .timestamp:
            return text.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?/) != nil
        case .date:
            return text.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}/) != nil
        case .json:
            guard let first = text.first, first == "{" || first == "[" else { return false }
            return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil
        }
    }
}
