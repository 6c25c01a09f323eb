/// `verify:` — what `backfill verify` checks besides full-row checksums.
public struct VerifySpec: Sendable, Codable, Hashable {
    /// Compare only these columns (and the key).
    public var keyFields: [String]?
    /// Random keys fetched from both sides and compared field by field.
    public var spotCheck: Int?
    /// Named queries run on source and target whose results must match.
    public var queries: [NamedQuery]

    public init(keyFields: [String]? = nil, spotCheck: Int? = nil, queries: [NamedQuery] = []) {
        self.keyFields = keyFields
        self.spotCheck = spotCheck
        self.queries = queries
    }

    public struct NamedQuery: Sendable, Codable, Hashable {
        public var name: String
        public var sql: String

        public init(name: String, sql: String) {
            self.name = name
            self.sql = sql
        }
    }
}
