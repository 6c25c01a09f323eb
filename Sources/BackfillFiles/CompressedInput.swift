/// The stored bytes of a compressed part, read a block at a time for its decoder: the bytes read
/// but not consumed yet, and how far into the file the decoder has consumed.
final class CompressedInput {
    let file: PlainFileStream
    private let blockSize: Int
    /// Bytes read from the file; those from `start` on are not consumed yet.
    private(set) var bytes: [UInt8] = []
    /// Index in `bytes` of the first byte the decoder has not consumed.
    var start = 0
    /// `true` once the file returned no more bytes.
    private(set) var fileEnded = false

    /// Opens `path`; `format` names the file kind in errors.
    init(path: String, format: String, blockSize: Int) throws {
        file = try PlainFileStream(path: path, format: format)
        self.blockSize = blockSize
    }

    /// Bytes of the file the decoder has consumed.
    var consumedOffset: Int { file.fileBytesRead - bytes.count + start }

    /// Whether every byte read was consumed and the file has no more.
    var isExhausted: Bool { start == bytes.count && fileEnded }

    /// The unconsumed bytes start with `prefix` (reading on first if fewer bytes than it are left).
    func startsWith(_ prefix: [UInt8]) throws -> Bool {
        if bytes.count - start < prefix.count { try refill() }
        return bytes[start...].starts(with: prefix)
    }

    /// Drops the consumed bytes and appends the next block of the file.
    func refill() throws {
        bytes.removeSubrange(0..<start)
        start = 0
        if !fileEnded, try file.read(into: &bytes, count: blockSize) == 0 { fileEnded = true }
    }
}
