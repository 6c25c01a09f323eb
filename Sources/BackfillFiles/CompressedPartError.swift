import BackfillCore
import Foundation

/// The errors of a compressed part's data, worded once for gzip and zstd.
enum CompressedPartError {
    static func notCompressed(_ path: String, format: String, starts bytes: [UInt8]) -> BackfillError {
        let start = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
        return BackfillError(
            .invalidInput,
            "the part is not \(format) data (it starts with \(bytes.isEmpty ? "nothing: the file is empty" : "bytes \(start)")); name it without the .\(format == "gzip" ? "gz" : "zst") suffix if it is not compressed",
            location: path)
    }

    static func corrupt(_ path: String, format: String, at offset: Int, reason: String) -> BackfillError {
        BackfillError(
            .invalidInput, "the \(format) data is corrupt at byte \(offset) of the file (\(reason)); nothing after it is read",
            location: path, underlying: DamagedData())
    }

    static func truncated(_ path: String, format: String, size: Int) -> BackfillError {
        BackfillError(
            .invalidInput,
            "the \(format) data ends before its stream does: the part is truncated after \(size) bytes; nothing after it is read",
            location: path, underlying: DamagedData())
    }
}

/// Marks an error as damage in a part's data, after which nothing can be read.
struct DamagedData: Error, CustomStringConvertible {
    var description: String { "damaged compressed data" }
}
