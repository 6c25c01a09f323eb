import BackfillCore

/// Reads one batch of records from a file with a `RecordScanner`, from a position to a cursor.
///
/// Each call opens the file, seeks and reads forward block by block until the batch is full or
/// the file ends, so memory is bounded by the batch and the block size, never by the file size.
struct FileBatchReader: Sendable {
    /// Records longer than this are rejected, so a missing closing quote cannot pull the rest of a
    /// large file into memory.
    static let defaultMaxRecordBytes = 16 * 1024 * 1024

    let path: String
    /// The file's kind as users name it, for errors: `CSV`, `JSONL`.
    let format: String
    var maxRecordBytes = FileBatchReader.defaultMaxRecordBytes
    var blockSize = FileBlockReader.defaultBlockSize

    init(path: String, format: String) {
        self.path = path
        self.format = format
    }

    /// Reads up to `limit` records (rows and rejected records together) starting at `position`.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be opened or read, or `position`
    ///   lies past its end.
    func read<Scanner: RecordScanner>(
        from position: FilePosition, limit: Int, with scanner: inout Scanner
    ) throws -> SourceBatch {
        let reader = try FileBlockReader(path: path, format: format, offset: position.offset, blockSize: blockSize)
        var batch = BatchBuilder(limit: limit, line: position.line)
        var reachedEnd = false
        while !batch.isFull {
            let atEnd = reader.isAtEnd
            let consumed = reader.withUnconsumedBytes { scanner.scan($0, atEnd: atEnd, into: &batch) }
            reader.consume(consumed)
            if batch.isFull { break }
            if atEnd {
                reachedEnd = true
                break
            }
            if reader.unconsumedCount > maxRecordBytes {
                try rejectOversizedRecord(reader: reader, scanner: scanner, batch: &batch)
            } else {
                try reader.readBlock()
            }
        }
        if !reachedEnd { reachedEnd = try reader.onlyLineBreaksRemain() }
        let cursor = Cursor(byteOffset: reader.consumedOffset, line: batch.line)
        return batch.batch(cursor: cursor, isLast: reachedEnd)
    }

    /// Rejects the record at the front of the buffer and resumes after the line feed that ends the
    /// physical line the scanner names, reading past the buffer when that line feed is further on.
    private func rejectOversizedRecord<Scanner: RecordScanner>(
        reader: FileBlockReader, scanner: Scanner, batch: inout BatchBuilder
    ) throws {
        let (consumed, foundLineFeed) = reader.withUnconsumedBytes { bytes -> (Int, Bool) in
            let searchStart = min(scanner.resynchronisationStart ?? bytes.count, bytes.count)
            let lineFeed = bytes[searchStart...].firstIndex(of: ASCII.lineFeed)
            let end = lineFeed.map { $0 + 1 } ?? bytes.count
            let record = UnsafeBufferPointer(rebasing: bytes[0..<end])
            batch.reject(record, reason: scanner.oversizeReason)
            batch.line += record.reduce(0) { $1 == ASCII.lineFeed ? $0 + 1 : $0 }
            return (end, lineFeed != nil)
        }
        reader.consume(consumed)
        if !foundLineFeed, try reader.skipPastNextLineFeed() { batch.line += 1 }
    }
}
