/// The bytes of one export part as its records were written: the file's own bytes, or what its gzip
/// or zstd data decodes to. Read forward only; offsets are in decoded bytes.
protocol DecodedStream: AnyObject {
    /// The part's path, for errors.
    var path: String { get }
    /// The file's size in bytes as stored.
    var fileSize: Int { get }
    /// How many bytes of the file were consumed so far (compressed bytes for a compressed part).
    var fileBytesRead: Int { get }

    /// Appends up to `count` decoded bytes to `buffer`.
    /// - Returns: how many bytes were appended; 0 only at the end of the data.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be read, or its compressed data
    ///   is corrupt or truncated (naming the part and the offset).
    func read(into buffer: inout [UInt8], count: Int) throws -> Int

    /// Moves `count` decoded bytes forward without keeping them: a seek for a plain file, decoding
    /// and discarding for a compressed one.
    /// - Returns: how many bytes were skipped, fewer than `count` only at the end of the data.
    func skip(_ count: Int) throws -> Int
}

extension DecodedStream {
    func skip(_ count: Int) throws -> Int {
        var scratch: [UInt8] = []
        var skipped = 0
        while skipped < count {
            scratch.removeAll(keepingCapacity: true)
            let read = try read(into: &scratch, count: min(count - skipped, 256 * 1024))
            if read == 0 { break }
            skipped += read
        }
        return skipped
    }
}

extension Array where Element == UInt8 {
    /// Appends up to `count` bytes that `fill` writes into fresh space at the end, keeping only as
    /// many as it reports written.
    mutating func appendFilling(_ count: Int, _ fill: (UnsafeMutableBufferPointer<UInt8>) throws -> Int) rethrows -> Int {
        let start = self.count
        // An array, not `repeatElement`: appended with one copy, where a lazy sequence would be
        // appended byte by byte (very slow in debug builds).
        append(contentsOf: [UInt8](repeating: 0, count: count))
        var written = 0
        defer { removeLast(count - written) }
        written = try withUnsafeMutableBufferPointer { all in
            try fill(UnsafeMutableBufferPointer(rebasing: all[start...]))
        }
        return written
    }
}
