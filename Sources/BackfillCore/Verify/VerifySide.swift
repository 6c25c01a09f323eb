/// A database table as `verify` reads it on either side of a comparison (a SQLite or PostgreSQL
/// table). The adapter that opened the table says how: the CLI asks for this capability instead
/// of knowing adapter types.
public protocol VerifySide: QueryableTable {
    /// The same table reading only `columns`, its rows in the order `verify` merges both sides in
    /// (the bytes of the key).
    func comparing(_ columns: [String]) async throws -> any VerifySide

    /// The canonical kinds of the columns when this engine parses values into its own types and
    /// prints them its own way (PostgreSQL), so that values from another engine are compared in
    /// that form; `nil` where stored values are compared as a run types them (SQLite).
    func canonicalKindsAcrossEngines() async throws -> [CanonicalKind]?
}
