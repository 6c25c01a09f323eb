/// Values a target column cannot hold exactly although its affinity accepts them: such a value is
/// quarantined with the reason, never written as another value while the run reports success.
///
/// - `sqlite`: SQLite stores a NaN as NULL, in any column; and a numeric text it turns into a
///   REAL keeps only about 15 significant digits (`1234567890123456789012345.5` into a NUMERIC
///   column), as does integral text it reads through a double (`99999999999999999.0`): such
///   text goes to a TEXT column or is quarantined.
/// - `float4`: a PostgreSQL `real` holds a double only when it is exactly a float4 (NaN and the
///   infinities included); any other double would be rounded.
/// - `decimalPlaces(n)`: a PostgreSQL `numeric(p, n)` rounds a value with more than `n` decimal
///   places (`1.005` into `numeric(12,2)` would be `1.01`).
/// - `secondFractionDigits(n)`: a PostgreSQL `timestamp(n)`, `timestamptz(n)` or `time(n)` rounds
///   fractions of a second with more than `n` digits (`…00.123456` into `timestamp(3)`).
public struct ValueFit: Sendable, Hashable, Codable {
    private enum Kind: Sendable, Hashable, Codable { case sqlite, float4, decimalPlaces(Int), secondFractionDigits(Int) }
    private let kind: Kind

    /// A column of a SQLite table.
    public static let sqlite = ValueFit(kind: .sqlite)
    /// A PostgreSQL `real` (float4) column.
    public static let float4 = ValueFit(kind: .float4)
    /// A PostgreSQL `numeric(p, places)` column.
    public static func decimalPlaces(_ places: Int) -> ValueFit { ValueFit(kind: .decimalPlaces(places)) }
    /// A PostgreSQL `timestamp(digits)`, `timestamptz(digits)` or `time(digits)` column.
    public static func secondFractionDigits(_ digits: Int) -> ValueFit { ValueFit(kind: .secondFractionDigits(digits)) }

    private init(kind: Kind) { self.kind = kind }

    /// Why the column cannot hold `value` (converted by the column's affinity from `original`)
    /// exactly, or `nil` when it can.
    public func rejection(of value: Value, convertedFrom original: Value? = nil) -> String? {
        switch (kind, value) {
        case (.sqlite, .real(let double)):
            if double.isNaN { return "NaN cannot be stored in SQLite (it would be stored as NULL)" }
            if case .text(let text) = original, Self.significantDigitsMayExceed15(text), let exact = CanonicalText.decimal(text),
                exact != CanonicalText.decimal("\(double)")
            {
                return "\(text) has more digits than a SQLite REAL holds (it would be stored as \(double)); use a TEXT column"
            }
            return nil
        case (.sqlite, .integer(let integer)):
            // Integral text with a fraction or exponent (`99999999999999999.0`) goes through a
            // double on its way to an integer, and may arrive as another integer.
            if case .text(let text) = original, Self.significantDigitsMayExceed15(text), let exact = CanonicalText.decimal(text),
                exact != String(integer)
            {
                return "\(text) has more digits than SQLite keeps for it (it would be stored as \(integer)); use a TEXT column"
            }
            return nil
        case (.float4, .real(let double)):
            guard !double.isNaN, Double(Float(double)) != double else { return nil }
            // Text that is a float4's own shortest form (`0.33333334`, as PostgreSQL prints a real)
            // names that float4 exactly, although as a double it is another number.
            if case .text(let text) = original, let single = Float(text), CanonicalText.decimal("\(single)") == CanonicalText.decimal(text) {
                return nil
            }
            return "\(double) has no exact float4 (real) form; the column would store \(Float(double))"
        case (.decimalPlaces(let places), _):
            guard let text = Self.decimalText(value), Self.fractionDigitsMayExceed(places, text), let decimal = CanonicalText.decimal(text),
                let point = decimal.firstIndex(of: "."), decimal.distance(from: point, to: decimal.endIndex) - 1 > places
            else { return nil }
            return "\(text) has more than \(places) decimal places (the column would store it rounded)"
        case (.secondFractionDigits(let digits), .text(let text)):
            guard let fraction = Self.secondFraction(text), fraction.count > digits else { return nil }
            return "\(text) has fractions of a second finer than \(digits) digits (the column would store it rounded)"
        default:
            return nil
        }
    }

    /// Cheap pre-checks on the hot path (every value of such a column): text with at most 15 digits
    /// before any exponent round-trips through a double (and SQLite keeps 15), and text with at most
    /// `places` digits after its point and no exponent fits the scale — only other text is parsed.
    private static func significantDigitsMayExceed15(_ text: String) -> Bool {
        var digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { break }
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { digits += 1 }
        }
        return digits > 15
    }

    private static func fractionDigitsMayExceed(_ places: Int, _ text: String) -> Bool {
        var fraction = -1
        for byte in text.utf8 {
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { return true }
            if byte == UInt8(ascii: ".") { fraction = 0 } else if fraction >= 0, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { fraction += 1 }
        }
        return fraction > places
    }

    private static func decimalText(_ value: Value) -> String? {
        switch value {
        case .text(let text): text
        case .real(let double) where double.isFinite: "\(double)"
        default: nil
        }
    }

    /// The significant digits of a timestamp's or time's fraction of a second (`12:00:00.120` → `12`).
    private static func secondFraction(_ text: String) -> Substring? {
        let parts = text.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, parts[0].last?.isNumber == true else { return nil }
        var digits = parts[1].prefix { $0.isASCII && $0.isNumber }
        while digits.last == "0" { digits = digits.dropLast() }
        return digits
    }
}
