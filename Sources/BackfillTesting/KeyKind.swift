/// The key shapes every invariant is tested with.
public enum KeyKind: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `id INTEGER PRIMARY KEY`.
    case integer
    /// `id TEXT PRIMARY KEY` holding UUID-like text.
    case text
    /// `PRIMARY KEY (tenant, id)`.
    case composite

    public var description: String { rawValue }

    /// The key columns of the fixture table.
    public var keyColumns: [String] { self == .composite ? ["tenant", "id"] : ["id"] }

    /// The YAML of the spec's `key:`.
    public var specKey: String { "[" + keyColumns.joined(separator: ", ") + "]" }
}
