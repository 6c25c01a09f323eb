import BackfillCore

/// Turns JSONL lines into rows of the wanted columns, and lines that are not JSON objects into rejected records.
struct JSONLRecordScanner: RecordScanner {
    private let lookup: ColumnLookup
    private let columnCount: Int
    private let maxRecordBytes: Int

    init(columns: [String], maxRecordBytes: Int) {
        self.lookup = ColumnLookup(columns: columns)
        self.columnCount = columns.count
        self.maxRecordBytes = maxRecordBytes
    }

    var oversizeReason: String { JSONLineProblem.tooLong(limit: maxRecordBytes).reason }

    /// `nil`: a line that is still incomplete has no line feed in the buffer, so the next one ends it.
    var resynchronisationStart: Int? { nil }

    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>, atEnd: Bool, into batch: inout BatchBuilder) -> Int {
        JSONLLines.scan(bytes, atEnd: atEnd, into: &batch) { row(in: $0) }
    }

    /// The wanted values of one line's object; keys that are not wanted are validated and skipped.
    private func row(in line: UnsafeBufferPointer<UInt8>) -> Result<[Value], JSONLineProblem> {
        var parser = JSONLineParser(line)
        var row = [Value](repeating: .null, count: columnCount)
        do {
            try parser.beginObject()
            while let key = try parser.nextKey() {
                if let position = lookup.position(of: key) {
                    row[position] = try parser.value()
                } else {
                    try parser.skipValue()
                }
            }
            try parser.end()
        } catch {
            return .failure(error)
        }
        return .success(row)
    }
}
