import BackfillCore

/// Turns CSV records into rows of the wanted columns, and malformed records into rejected ones.
struct CSVRecordScanner: RecordScanner {
    /// Fields every record must have: the header's.
    private let fieldCount: Int
    /// Header positions of the wanted columns, in row order.
    private let positions: [Int]
    /// The wanted columns, for naming them in reasons.
    private let columns: [String]
    private let maxRecordBytes: Int
    private var parser = CSVRecordParser()
    private(set) var resynchronisationStart: Int?

    init(fieldCount: Int, positions: [Int], columns: [String], maxRecordBytes: Int) {
        self.fieldCount = fieldCount
        self.positions = positions
        self.columns = columns
        self.maxRecordBytes = maxRecordBytes
    }

    var oversizeReason: String { CSVProblem.tooLong(limit: maxRecordBytes).reason }

    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>, atEnd: Bool, into batch: inout BatchBuilder) -> Int {
        var index = 0
        while index < bytes.count, !batch.isFull {
            switch parser.parse(bytes, from: index, atEnd: atEnd) {
            case .incomplete(let from):
                resynchronisationStart = from.map { $0 - index }
                return index
            case .blankLine(let end, let lineBreaks):
                batch.line += lineBreaks
                index = end
            case .record(let end, let lineBreaks):
                let record = UnsafeBufferPointer(rebasing: bytes[index..<end])
                switch row(in: bytes) {
                case .success(let row): batch.append(row)
                case .failure(let problem): batch.reject(record, reason: problem.reason)
                }
                batch.line += lineBreaks
                index = end
            case .malformed(let problem, let end, let lineBreaks):
                batch.reject(UnsafeBufferPointer(rebasing: bytes[index..<end]), reason: problem.reason)
                batch.line += lineBreaks
                index = end
            }
        }
        resynchronisationStart = nil
        return index
    }

    /// The wanted values of the record the parser just read.
    private func row(in bytes: UnsafeBufferPointer<UInt8>) -> Result<[Value], CSVProblem> {
        let fields = parser.fields
        guard fields.count == fieldCount else {
            return .failure(.fieldCount(expected: fieldCount, found: fields.count))
        }
        var row: [Value] = []
        row.reserveCapacity(positions.count)
        for (column, position) in positions.enumerated() {
            guard let value = fields[position].value(in: bytes) else {
                return .failure(.invalidUTF8(column: columns[column]))
            }
            row.append(value)
        }
        return .success(row)
    }
}
