import BackfillCore

/// Reads a part's decoded bytes forward in fixed-size blocks from a byte offset, keeping only the bytes not consumed yet.
///
/// Memory stays bounded by the block size plus the longest record in flight, whatever the file size:
/// consumed bytes are dropped before each new block is appended.
final class FileBlockReader {
    /// 256 KiB: large enough that a read costs little per row, small enough to be negligible per worker.
    static let defaultBlockSize = 256 * 1024

    /// The part's decoded bytes, read forward.
    let stream: any DecodedStream
    private let blockSize: Int
    private var buffer: [UInt8] = []
    /// Index in `buffer` of the first byte not consumed yet.
    private var start = 0
    /// Decoded offset of `buffer[0]`.
    private var bufferOffset: Int

    /// `true` once a read returned no bytes: the unconsumed bytes are all that is left of the file.
    private(set) var isAtEnd = false

    /// Opens `path` (plain, gzip or zstd by its name) positioned at decoded byte `offset`; `format`
    /// names the file kind in errors (`CSV`, `JSONL`).
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be opened or decoded, or `offset`
    ///   lies past its end.
    convenience init(path: String, format: String, offset: Int, blockSize: Int = FileBlockReader.defaultBlockSize) throws {
        let stream = try PartEncoding.open(path: path, format: format)
        guard offset >= 0, try stream.skip(offset) == offset else { throw BackfillError.cursorPastEnd(path) }
        self.init(stream: stream, offset: offset, blockSize: blockSize)
    }

    /// Reads on from `stream`, which stands at decoded byte `offset`.
    init(stream: any DecodedStream, offset: Int, blockSize: Int = FileBlockReader.defaultBlockSize) {
        self.stream = stream
        self.blockSize = blockSize
        self.bufferOffset = offset
        buffer.reserveCapacity(blockSize)
    }

    /// The file offset just after the last consumed byte.
    var consumedOffset: Int { bufferOffset + start }

    /// How many bytes were read but not consumed yet.
    var unconsumedCount: Int { buffer.count - start }

    /// Calls `body` with the bytes read but not consumed yet.
    func withUnconsumedBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try buffer.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[start...]))
        }
    }

    /// Marks the first `count` unconsumed bytes as consumed.
    func consume(_ count: Int) {
        precondition(count <= unconsumedCount, "consumed more bytes than were read")
        start += count
    }

    /// Reads the next block after the unconsumed bytes; returns `false` (and sets `isAtEnd`) at the end of the file.
    /// - Throws: `BackfillError` `.invalidInput` when the read fails.
    @discardableResult
    func readBlock() throws -> Bool {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            bufferOffset += start
            start = 0
        }
        guard try stream.read(into: &buffer, count: blockSize) > 0 else {
            isAtEnd = true
            return false
        }
        return true
    }

    /// Consumes bytes up to and including the next line feed, reading on as far as needed.
    /// - Returns: `true` when a line feed was found, `false` when the file ended first.
    /// - Throws: `BackfillError` `.invalidInput` when a read fails.
    func skipPastNextLineFeed() throws -> Bool {
        while true {
            let found = withUnconsumedBytes { $0.firstIndex(of: ASCII.lineFeed) }
            if let found {
                consume(found + 1)
                return true
            }
            consume(unconsumedCount)
            if isAtEnd { return false }
            if try !readBlock() { return false }
        }
    }

    /// Whether nothing but line breaks is left in the file, looking at most one block ahead.
    /// - Throws: `BackfillError` `.invalidInput` when a read fails.
    func onlyLineBreaksRemain() throws -> Bool {
        if unconsumedCount == 0, !isAtEnd { try readBlock() }
        let onlyBreaks = withUnconsumedBytes { bytes in
            bytes.allSatisfy { $0 == ASCII.lineFeed || $0 == ASCII.carriageReturn }
        }
        guard onlyBreaks else { return false }
        if isAtEnd { return true }
        try readBlock()
        return isAtEnd
    }
}
