/// Estimates how many records a file holds from its size and its first lines, without reading it all.
enum RowEstimator {
    /// Lines whose average length stands for the whole file.
    static let sampleLines = 500
    /// Read at most this much to sample: a few hundred lines of any sane export.
    static let sampleBytes = 256 * 1024

    /// Records from `position` to the end of the part: counted exactly when the sample holds the whole
    /// rest, otherwise the rest's size divided by the sampled lines' average length. A compressed
    /// part's decoded size is estimated from how much its first blocks grew when decoded.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be opened, read or decoded.
    static func estimate(path: String, format: String, from position: FilePosition) throws -> Int {
        let reader = try FileBlockReader(path: path, format: format, offset: position.offset, blockSize: sampleBytes)
        try reader.readBlock()
        let holdsAll = try !reader.readBlock()
        let decoded = Double(position.offset + reader.unconsumedCount)
        let decodedPerStoredByte = decoded / Double(max(1, reader.stream.fileBytesRead))
        let remaining = Double(reader.stream.fileSize) * decodedPerStoredByte - Double(position.offset)
        return reader.withUnconsumedBytes { bytes in
            var lines = 0
            var sampledBytes = 0
            for (index, byte) in bytes.enumerated() where byte == ASCII.lineFeed {
                lines += 1
                sampledBytes = index + 1
                if lines == sampleLines, !holdsAll { break }
            }
            if holdsAll { return lines + (sampledBytes < bytes.count ? 1 : 0) }
            guard lines > 0 else { return 1 }
            let averageLength = Double(sampledBytes) / Double(lines)
            return max(1, Int((remaining / averageLength).rounded()))
        }
    }
}
