/// A row a source could not turn into values, kept with why and where.
public struct RejectedRow: Sendable, Hashable, Codable {
    /// 1-based line in the source file, when the source is a file.
    public var line: Int?
    /// The key, when it could be read.
    public var key: [Value]?
    public var reason: String
    /// The raw text of the record (files) or its values rendered as text, for retrying later.
    public var raw: String?

    public init(line: Int? = nil, key: [Value]? = nil, reason: String, raw: String? = nil) {
        self.line = line
        self.key = key
        self.reason = reason
        self.raw = raw
    }
}

/// Rows read from a source after a cursor, with the cursor just after the last of them.
public struct SourceBatch: Sendable {
    /// Rows aligned with the source's `columns`.
    public var rows: [[Value]]
    /// The 1-based line each row started on, for file sources (same count as `rows`).
    public var lines: [Int]?
    /// Records the source could not parse; they count as read and go to quarantine.
    public var rejected: [RejectedRow]
    /// The position after the last row or rejected record of this batch.
    public var cursor: Cursor?
    /// `true` when the chunk has no rows after this batch.
    public var isLast: Bool

    public init(rows: [[Value]], lines: [Int]? = nil, rejected: [RejectedRow] = [], cursor: Cursor?, isLast: Bool) {
        self.rows = rows
        self.lines = lines
        self.rejected = rejected
        self.cursor = cursor
        self.isLast = isLast
    }

    /// Rows plus rejected records.
    public var recordCount: Int { rows.count + rejected.count }
}
