/// `verify:` — what `backfill verify` checks besides full-row checksums.
public struct VerifySpec: Sendable, Codable, Hashable {
    /// Compare only these columns (and the key).
    public var keyFields: [String]?
    /// Random keys fetched from both sides and compared field by field.
    public var spotCheck: Int?
    /// Named queries run on source and target whose results must match.
    public var queries: [NamedQuery]
    /// `after-run: true`: every completed `backfill run` ends with a verification of the job's
    /// range, repairs what differs once more through the runner, and verifies again (`run --verify`).
    public var afterRun: Bool

    public init(keyFields: [String]? = nil, spotCheck: Int? = nil, queries: [NamedQuery] = [], afterRun: Bool = false) {
        self.keyFields = keyFields
        self.spotCheck = spotCheck
        self.queries = queries
        self.afterRun = afterRun
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
