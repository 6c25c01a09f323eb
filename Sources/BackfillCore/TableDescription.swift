/// How a column converts incoming values, following SQLite's type affinity rules.
public struct ColumnAffinity: Sendable, Hashable, Codable, CustomStringConvertible {
    private enum Kind: String, Codable { case integer, real, numeric, text, blob, boolean }
    private let kind: Kind

    public static let integer = ColumnAffinity(kind: .integer)
    public static let real = ColumnAffinity(kind: .real)
    public static let numeric = ColumnAffinity(kind: .numeric)
    public static let text = ColumnAffinity(kind: .text)
    /// No conversion: values are stored as they come.
    public static let blob = ColumnAffinity(kind: .blob)
    /// A real boolean column (PostgreSQL's `boolean`): values become 1 or 0, and text such as
    /// `true`/`f`/`yes`/`0` is read as a boolean.
    public static let boolean = ColumnAffinity(kind: .boolean)

    /// The affinity SQLite gives a declared column type (section 3.1 of SQLite's datatype docs).
    public init(declaredType: String) {
        let t = declaredType.uppercased()
        if t.contains("INT") {
            kind = .integer
        } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
            kind = .text
        } else if t.contains("BLOB") || t.isEmpty {
            kind = .blob
        } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
            kind = .real
        } else {
            kind = .numeric
        }
    }

    private init(kind: Kind) { self.kind = kind }

    public var description: String { kind.rawValue }

    /// Converts `value` to this affinity.
    ///
    /// - Parameter strict: when `true` (values parsed from text files), text that cannot be
    ///   converted to a numeric affinity is rejected with `nil`; when `false` (typed sources) it is
    ///   kept as it is, as SQLite itself would store it.
    public func convert(_ value: Value, strict: Bool) -> Value? {
        switch (kind, value) {
        case (_, .null), (.blob, _):
            return value
        case (.boolean, .integer(let v)):
            return .integer(v == 0 ? 0 : 1)
        case (.boolean, .real(let v)):
            return .integer(v == 0 ? 0 : 1)
        case (.boolean, .text(let s)):
            switch s.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "t", "yes", "y", "on", "1": return .integer(1)
            case "false", "f", "no", "n", "off", "0": return .integer(0)
            default: return strict ? nil : value
            }
        case (.boolean, .blob):
            return strict ? nil : value
        case (.text, .integer(let v)):
            return .text(String(v))
        case (.text, .real(let v)):
            return .text(String(v))
        case (.text, _):
            return value
        case (.integer, .real(let v)), (.numeric, .real(let v)):
            if let exact = Int64(exactly: v) { return .integer(exact) }
            return value
        case (.real, .integer(let v)):
            return .real(Double(v))
        case (_, .integer), (_, .real):
            return value
        case (_, .text(let s)):
            if let number = Self.number(from: s, preferReal: kind == .real) { return number }
            return strict ? nil : value
        case (_, .blob):
            return strict ? nil : value
        }
    }

    private static func number(from text: String, preferReal: Bool) -> Value? {
        // Most values start and end with a visible ASCII character: nothing to trim, and Foundation's
        // trimming (through NSString) would cost more than the conversion itself.
        let visible: ClosedRange<UInt8> = 0x21...0x7E
        let bare = text.utf8.first.map(visible.contains) == true && text.utf8.last.map(visible.contains) == true
        let trimmed = bare ? text : text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        if let int = Int64(trimmed) {
            return preferReal ? .real(Double(int)) : .integer(int)
        }
        guard let double = Double(trimmed), double.isFinite else { return nil }
        if !preferReal, let exact = Int64(exactly: double) { return .integer(exact) }
        return .real(double)
    }
}

/// A column of a source or target table.
public struct ColumnDescription: Sendable, Hashable, Codable {
    public var name: String
    public var declaredType: String
    public var notNull: Bool
    /// How the engine types incoming values, when its rules are not SQLite's (PostgreSQL).
    public var engineAffinity: ColumnAffinity?
    /// Values the column's affinity accepts but the column cannot hold exactly (`nil`: none).
    public var fit: ValueFit?

    public init(name: String, declaredType: String, notNull: Bool = false, affinity: ColumnAffinity? = nil, fit: ValueFit? = nil) {
        self.name = name
        self.declaredType = declaredType
        self.notNull = notNull
        self.engineAffinity = affinity
        self.fit = fit
    }

    /// The engine's own affinity, else SQLite's rules applied to the declared type.
    public var affinity: ColumnAffinity { engineAffinity ?? ColumnAffinity(declaredType: declaredType) }
}

/// What a source or sink knows about its table: columns and unique keys.
public struct TableDescription: Sendable, Hashable {
    public var columns: [ColumnDescription]
    /// Column sets with a unique constraint (primary key included).
    public var uniqueKeys: [[String]]

    public init(columns: [ColumnDescription], uniqueKeys: [[String]] = []) {
        self.columns = columns
        self.uniqueKeys = uniqueKeys
    }

    public func column(named name: String) -> ColumnDescription? {
        columns.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// Whether some unique constraint covers exactly `key` (in any order).
    public func hasUniqueKey(_ key: [String]) -> Bool {
        let wanted = Set(key.map { $0.lowercased() })
        return uniqueKeys.contains { Set($0.map { $0.lowercased() }) == wanted }
    }
}

import Foundation
