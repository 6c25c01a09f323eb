import BackfillCore
import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A part's size, modification time and a hash of its first block: enough to tell, on resume,
/// that a part is still the file the run planned, so its byte offsets still point at its records.
enum PartFingerprint {
    /// Bytes hashed at the start of a part, as stored.
    static let blockSize = 64 * 1024

    /// The fingerprint of the file at `path` now.
    /// - Throws: `BackfillError` `.invalidInput` when it cannot be opened or read.
    static func take(_ path: String, format: String) throws -> SourcePart {
        let file = try PlainFileStream(path: path, format: format)
        var info = stat()
        guard stat(path, &info) == 0 else { throw BackfillError.cannotOpen(path, format: format) }
        var block: [UInt8] = []
        while block.count < blockSize, try file.read(into: &block, count: blockSize - block.count) > 0 {}
        let digest = Hex.encode(SHA256.hash(data: block).prefix(16))
        #if canImport(Glibc)
        let time = info.st_mtim
        #else
        let time = info.st_mtimespec
        #endif
        let modified = Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
        return SourcePart(path: path, size: Int(info.st_size), modified: modified, firstBlock: digest)
    }

    /// Checks that the file `planned` describes is unchanged.
    /// - Throws: `BackfillError` `.invalidInput` naming the part and what changed.
    static func check(_ planned: SourcePart, format: String) throws {
        let now = try take(planned.path, format: format)
        var changes: [String] = []
        if now.size != planned.size { changes.append("its size was \(planned.size) bytes and is \(now.size)") }
        if now.modified != planned.modified { changes.append("it was modified") }
        if now.firstBlock != planned.firstBlock { changes.append("its first \(blockSize / 1024) KiB differ") }
        guard changes.isEmpty else {
            throw BackfillError(
                .invalidInput,
                "the part changed since the run planned it (\(changes.joined(separator: ", "))): its checkpoints would point into other data; restore the original (cp -p keeps its modification time) to resume, or `backfill cancel` the run and start a new one",
                location: planned.path)
        }
    }
}
