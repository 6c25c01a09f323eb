/// Values a target column cannot hold exactly although its affinity accepts them: such a value is
/// quarantined with the reason, never written as another value while the run reports success.
///
/// - `sqlite`: SQLite stores a NaN as NULL, in any column; and a numeric text it turns into a
///   REAL keeps only about 15 significant digits (`1234567890123456789012345.5` into a NUMERIC
///   column): such text goes to a TEXT column or is quarantined.
/// - `float4`: a PostgreSQL `real` holds a double only when it is exactly a float4 (NaN and the
///   infinities included); any other double would be rounded.
public struct ValueFit: Sendable, Hashable, Codable {
    private enum Kind: String, Codable { case sqlite, float4 }
    private let kind: Kind

    /// A column of a SQLite table.
    public static let sqlite = ValueFit(kind: .sqlite)
    /// A PostgreSQL `real` (float4) column.
    public static let float4 = ValueFit(kind: .float4)

    private init(kind: Kind) { self.kind = kind }

    /// Why the column cannot hold `value` (converted by the column's affinity from `original`)
    /// exactly, or `nil` when it can.
    public func rejection(of value: Value, convertedFrom original: Value? = nil) -> String? {
        guard case .real(let double) = value else { return nil }
        switch kind {
        case .sqlite:
            if double.isNaN { return "NaN cannot be stored in SQLite (it would be stored as NULL)" }
            if case .text(let text) = original, let exact = CanonicalText.decimal(text), exact != CanonicalText.decimal("\(double)") {
                return "\(text) has more digits than a SQLite REAL holds (it would be stored as \(double)); use a TEXT column"
            }
            return nil
        case .float4:
            guard !double.isNaN, Double(Float(double)) != double else { return nil }
            return "\(double) has no exact float4 (real) form; the column would store \(Float(double))"
        }
    }
}
