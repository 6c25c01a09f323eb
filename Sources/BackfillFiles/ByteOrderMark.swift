/// The UTF-8 byte order mark some programs write at the start of text files; it is not data.
enum ByteOrderMark {
    static let utf8: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Where the data of the file at `path` starts: after a byte order mark, if it has one.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be opened or read.
    static func dataStart(of path: String, format: String) throws -> FilePosition {
        let reader = try FileBlockReader(path: path, format: format, offset: 0, blockSize: utf8.count)
        try reader.readBlock()
        let hasMark = reader.withUnconsumedBytes { $0.starts(with: utf8) }
        return FilePosition(offset: hasMark ? utf8.count : 0, line: 1)
    }
}
