import BackfillCore
import CZlib

/// A gzip file decoded with the system zlib as it is read, member after member (`cat a.gz b.gz`
/// is one valid gzip file).
///
/// Corrupt data and data that ends inside a member are errors naming the part and the byte of the
/// file where decoding stopped; decoded bytes before that point were already handed out.
final class GzipStream: DecodedStream {
    static let magic: [UInt8] = [0x1F, 0x8B]
    private static let inputSize = 64 * 1024

    let path: String
    var fileSize: Int { input.file.fileSize }
    /// Compressed bytes zlib consumed so far.
    var fileBytesRead: Int { input.consumedOffset }

    private let input: CompressedInput
    /// zlib keeps a pointer to its stream, so the stream lives at one address for its whole life.
    private let stream: UnsafeMutablePointer<z_stream>
    private var finished = false

    /// Opens `path`, which must start with the gzip magic bytes.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be read or is not gzip data.
    init(path: String, format: String) throws {
        self.path = path
        input = try CompressedInput(path: path, format: format, blockSize: Self.inputSize)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 16 + MAX_WBITS: a gzip header and trailer, not a zlib or raw deflate stream.
        guard inflateInit2_(stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw BackfillError(.invalidInput, "zlib could not start decoding", location: path)
        }
        guard try input.startsWith(Self.magic) else {
            throw CompressedPartError.notCompressed(path, format: "gzip", starts: Array(input.bytes.prefix(4)))
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func read(into buffer: inout [UInt8], count: Int) throws -> Int {
        guard !finished, count > 0 else { return 0 }
        return try buffer.appendFilling(count) { space in
            var produced = 0
            while produced == 0 {
                if input.start == input.bytes.count {
                    try input.refill()
                    if input.isExhausted { throw CompressedPartError.truncated(path, format: "gzip", size: fileSize) }
                }
                let status = inflateStep(into: UnsafeMutableBufferPointer(rebasing: space[produced...]), produced: &produced)
                switch status {
                case Z_OK, Z_BUF_ERROR:
                    continue
                case Z_STREAM_END:
                    if try !startNextMember() {
                        finished = true
                        return produced
                    }
                default:
                    let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                    throw CompressedPartError.corrupt(path, format: "gzip", at: fileBytesRead, reason: reason)
                }
            }
            return produced
        }
    }

    /// Runs zlib once over the unconsumed input into `space`, counting what it wrote and consumed.
    private func inflateStep(into space: UnsafeMutableBufferPointer<UInt8>, produced: inout Int) -> Int32 {
        let start = input.start
        return input.bytes.withUnsafeBufferPointer { bytes in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress! + start)
            stream.pointee.avail_in = UInt32(bytes.count - start)
            stream.pointee.next_out = space.baseAddress
            stream.pointee.avail_out = UInt32(space.count)
            let status = inflate(stream, Z_NO_FLUSH)
            input.start = bytes.count - Int(stream.pointee.avail_in)
            produced += space.count - Int(stream.pointee.avail_out)
            stream.pointee.next_in = nil
            return status
        }
    }

    /// After a member's end: `false` at the end of the file, `true` after resetting zlib for the
    /// next member.
    /// - Throws: when bytes follow that are not another gzip member.
    private func startNextMember() throws -> Bool {
        let next = try input.startsWith(Self.magic)
        if input.isExhausted { return false }
        guard next else {
            throw CompressedPartError.corrupt(
                path, format: "gzip", at: fileBytesRead, reason: "bytes that are not a gzip member follow the end of the data")
        }
        inflateReset(stream)
        return true
    }
}
