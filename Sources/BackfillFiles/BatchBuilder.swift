import BackfillCore

/// Collects the rows and rejected records of one batch, and the line the next record starts on.
struct BatchBuilder {
    /// Raw text kept with a rejected record, in characters.
    static let rawTextLimit = 1_000

    let limit: Int
    private(set) var rows: [[Value]] = []
    private(set) var lines: [Int] = []
    private(set) var rejected: [RejectedRow] = []
    /// The 1-based physical line the next record starts on.
    var line: Int

    init(limit: Int, line: Int) {
        self.limit = limit
        self.line = line
        rows.reserveCapacity(min(limit, 16_384))
        lines.reserveCapacity(min(limit, 16_384))
    }

    /// Rows plus rejected records so far.
    var recordCount: Int { rows.count + rejected.count }

    /// Rows plus rejected records have reached the limit.
    var isFull: Bool { rows.count + rejected.count >= limit }

    /// Adds a row that started on the current line.
    mutating func append(_ row: [Value]) {
        rows.append(row)
        lines.append(line)
    }

    /// Rejects the record in `record` (its line break included or not) that started on the current line.
    mutating func reject(_ record: UnsafeBufferPointer<UInt8>, reason: String) {
        rejected.append(RejectedRow(line: line, key: nil, reason: reason, raw: Self.rawText(of: record)))
    }

    func batch(cursor: Cursor, isLast: Bool) -> SourceBatch {
        SourceBatch(rows: rows, lines: lines, rejected: rejected, cursor: cursor, isLast: isLast)
    }

    /// The record's text without its final line break, invalid UTF-8 replaced, cut to `rawTextLimit` characters.
    static func rawText(of record: UnsafeBufferPointer<UInt8>) -> String {
        var end = record.count
        if end > 0, record[end - 1] == ASCII.lineFeed { end -= 1 }
        if end > 0, record[end - 1] == ASCII.carriageReturn { end -= 1 }
        // A character is at most 4 bytes in UTF-8, so this prefix holds the first `rawTextLimit` characters.
        let bytes = UnsafeBufferPointer(rebasing: record[0..<min(end, rawTextLimit * 4)])
        return String(String(decoding: bytes, as: UTF8.self).prefix(rawTextLimit))
    }
}
