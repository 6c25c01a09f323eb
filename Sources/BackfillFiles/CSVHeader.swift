import BackfillCore
import Foundation

/// The header row of a CSV file: its column names and where the data after it starts.
struct CSVHeader: Sendable, Hashable {
    /// Header rows longer than this are refused: nobody names columns in 1 MiB.
    static let maxBytes = 1024 * 1024

    let names: [String]
    /// The first byte and line after the header row.
    let dataStart: FilePosition

    /// Reads the header row of the CSV file at `path`, skipping a byte order mark and blank lines before it.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be opened or read, has no header row,
    ///   or its header is malformed or names a column twice.
    static func read(path: String) throws -> CSVHeader {
        let reader = try FileBlockReader(path: path, format: "CSV", offset: 0, blockSize: 64 * 1024)
        try reader.readBlock()
        if reader.withUnconsumedBytes({ $0.starts(with: ByteOrderMark.utf8) }) {
            reader.consume(ByteOrderMark.utf8.count)
        }
        var parser = CSVRecordParser()
        var line = 1
        while true {
            let atEnd = reader.isAtEnd
            var found: Result<[String], BackfillError>?
            let consumed = reader.withUnconsumedBytes { bytes -> Int in
                var index = 0
                while index < bytes.count {
                    switch parser.parse(bytes, from: index, atEnd: atEnd) {
                    case .incomplete:
                        return index
                    case .blankLine(let end, let lineBreaks):
                        line += lineBreaks
                        index = end
                    case .record(let end, let lineBreaks):
                        found = names(of: parser.fields, in: bytes, path: path, line: line)
                        line += lineBreaks
                        return end
                    case .malformed(let problem, _, _):
                        found = .failure(malformed(path: path, line: line, reason: problem.reason))
                        return index
                    }
                }
                return index
            }
            reader.consume(consumed)
            if let found {
                return CSVHeader(
                    names: try found.get(), dataStart: FilePosition(offset: reader.consumedOffset, line: line))
            }
            if atEnd {
                throw BackfillError(
                    .invalidInput, "the CSV file is empty: it needs a header row naming the columns", location: path)
            }
            if reader.unconsumedCount > maxBytes {
                throw malformed(path: path, line: line, reason: "header row is longer than \(maxBytes) bytes")
            }
            try reader.readBlock()
        }
    }

    /// The header positions of `columns`, matching names exactly first, then ignoring case.
    /// - Throws: `BackfillError` `.invalidInput` naming the first column the header lacks.
    func positions(of columns: [String], path: String) throws -> [Int] {
        try columns.map { column in
            if let exact = names.firstIndex(of: column) { return exact }
            if let folded = names.firstIndex(where: { $0.caseInsensitiveCompare(column) == .orderedSame }) {
                return folded
            }
            throw BackfillError.missingColumn(column, in: path, available: names)
        }
    }

    private static func names(
        of fields: [CSVField], in bytes: UnsafeBufferPointer<UInt8>, path: String, line: Int
    ) -> Result<[String], BackfillError> {
        var names: [String] = []
        var seen: Set<String> = []
        for (index, field) in fields.enumerated() {
            guard let name = field.text(in: bytes) else {
                return .failure(
                    malformed(path: path, line: line, reason: "header field \(index + 1) is not valid UTF-8"))
            }
            guard seen.insert(name.lowercased()).inserted else {
                return .failure(
                    BackfillError(
                        .invalidInput, "the header names column '\(name)' twice; rename one of them",
                        location: "\(path):\(line)"))
            }
            names.append(name)
        }
        return .success(names)
    }

    private static func malformed(path: String, line: Int, reason: String) -> BackfillError {
        BackfillError(.invalidInput, "the CSV header row is malformed: \(reason)", location: "\(path):\(line)")
    }
}
