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
    /// Where readers wait between batches; `nil` to open the file for every batch.
    var openParts: OpenParts?

    init(path: String, format: String) {
        self.path = path
        self.format = format
    }

    /// Reads up to `limit` records (rows and rejected records together) starting at `position`.
    ///
    /// When the file cannot be read or decoded any further (corrupt or truncated compressed data),
    /// the records before that point are returned as a batch that is not the last; reading on from
    /// its cursor throws, naming the last complete record, so nothing after the damage is skipped.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be opened or read, or `position`
    ///   lies past its end.
    func read<Scanner: RecordScanner>(
        from position: FilePosition, limit: Int, with scanner: inout Scanner
    ) throws -> SourceBatch {
        var batch = BatchBuilder(limit: limit, line: position.line)
        var reader: FileBlockReader?
        do {
            let opened =
                try openParts?.take(path: path, at: position.offset)
                ?? FileBlockReader(path: path, format: format, offset: position.offset, blockSize: blockSize)
            reader = opened
            let result = try fill(&batch, from: opened, with: &scanner)
            if !result.isLast { openParts?.park(opened, path: path) }
            return result
        } catch let error as BackfillError where error.underlying is DamagedData {
            let offset = reader?.consumedOffset ?? position.offset
            if batch.recordCount > 0 {
                return batch.batch(cursor: Cursor(byteOffset: offset, line: batch.line), isLast: false)
            }
            throw BackfillError(
                .invalidInput,
                "\(error.message); the last complete \(format) record read ends before line \(batch.line), at byte \(offset) of the decoded data",
                location: error.location ?? path, underlying: error.underlying)
        }
    }

    private func fill<Scanner: RecordScanner>(
        _ batch: inout BatchBuilder, from reader: FileBlockReader, with scanner: inout Scanner
    ) throws -> SourceBatch {
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
