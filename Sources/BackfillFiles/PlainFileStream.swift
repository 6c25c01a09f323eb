import BackfillCore
#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

/// A file read as it is stored, with `read(2)` into the caller's buffer.
final class PlainFileStream: DecodedStream {
    let path: String
    let fileSize: Int
    private(set) var fileBytesRead = 0
    private let descriptor: Int32

    /// Opens `path` for reading; `format` names the file kind in errors (`CSV`, `JSONL`).
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be opened or is not a regular file.
    init(path: String, format: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BackfillError.cannotOpen(path, format: format) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw BackfillError.cannotRead(path, underlying: PlainFileError(reason: "not a regular file"))
        }
        self.path = path
        self.descriptor = descriptor
        self.fileSize = Int(info.st_size)
    }

    deinit {
        close(descriptor)
    }

    func read(into buffer: inout [UInt8], count: Int) throws -> Int {
        let got = try buffer.appendFilling(count) { space in
            while true {
                let result = systemRead(descriptor, space.baseAddress, space.count)
                if result >= 0 { return result }
                if errno == EINTR { continue }
                throw BackfillError.cannotRead(path, underlying: PlainFileError(reason: String(cString: strerror(errno))))
            }
        }
        fileBytesRead += got
        return got
    }

    func skip(_ count: Int) throws -> Int {
        let skipped = min(count, max(0, fileSize - fileBytesRead))
        guard lseek(descriptor, off_t(fileBytesRead + skipped), SEEK_SET) >= 0 else {
            throw BackfillError.cannotRead(path, underlying: PlainFileError(reason: String(cString: strerror(errno))))
        }
        fileBytesRead += skipped
        return skipped
    }
}

/// Why a plain file could not be read.
struct PlainFileError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
