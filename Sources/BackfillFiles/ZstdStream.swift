import BackfillCore

/// A zstd file decoded with libzstd as it is read, frame after frame.
///
/// Corrupt data and data that ends inside a frame are errors naming the part and the byte of the
/// file where decoding stopped; decoded bytes before that point were already handed out.
final class ZstdStream: DecodedStream {
    static let magic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
    private static let inputSize = 128 * 1024

    let path: String
    var fileSize: Int { input.file.fileSize }
    /// Compressed bytes libzstd consumed so far.
    var fileBytesRead: Int { input.consumedOffset }

    private let library: ZstdLibrary
    private let input: CompressedInput
    private let context: OpaquePointer
    /// `ZSTD_inBuffer` and `ZSTD_outBuffer`: a pointer and two `size_t`s each, laid out as C does.
    private let inBuffer = UnsafeMutablePointer<UInt>.allocate(capacity: 3)
    private let outBuffer = UnsafeMutablePointer<UInt>.allocate(capacity: 3)
    /// `true` when the last call ended a frame and flushed it: the data may end here.
    private var atFrameEnd = false

    /// Opens `path`, which must start with the zstd magic bytes.
    /// - Throws: `BackfillError` `.invalidInput` when libzstd is missing or the file cannot be read or
    ///   is not zstd data.
    init(path: String, format: String) throws {
        let library = try ZstdLibrary.shared.get()
        input = try CompressedInput(path: path, format: format, blockSize: Self.inputSize)
        guard let context = library.createDStream() else {
            throw BackfillError(.invalidInput, "libzstd could not start decoding", location: path)
        }
        self.library = library
        self.context = context
        self.path = path
        _ = library.initDStream(context)
        guard try input.startsWith(Self.magic) else {
            throw CompressedPartError.notCompressed(path, format: "zstd", starts: Array(input.bytes.prefix(4)))
        }
    }

    deinit {
        _ = library.freeDStream(context)
        inBuffer.deallocate()
        outBuffer.deallocate()
    }

    func read(into buffer: inout [UInt8], count: Int) throws -> Int {
        guard count > 0 else { return 0 }
        return try buffer.appendFilling(count) { space in
            var produced = 0
            while produced == 0 {
                if input.start == input.bytes.count {
                    try input.refill()
                    if input.isExhausted {
                        if atFrameEnd { return 0 }
                        throw CompressedPartError.truncated(path, format: "zstd", size: fileSize)
                    }
                }
                let result = decompressStep(into: UnsafeMutableBufferPointer(rebasing: space[produced...]), produced: &produced)
                if library.isError(result) != 0 {
                    let reason = library.errorName(result).map { String(cString: $0) } ?? "zstd error \(result)"
                    throw CompressedPartError.corrupt(path, format: "zstd", at: fileBytesRead, reason: reason)
                }
                atFrameEnd = result == 0
            }
            return produced
        }
    }

    /// Runs libzstd once over the unconsumed input into `space`, counting what it wrote and consumed.
    private func decompressStep(into space: UnsafeMutableBufferPointer<UInt8>, produced: inout Int) -> Int {
        input.bytes.withUnsafeBufferPointer { bytes in
            inBuffer[0] = UInt(bitPattern: bytes.baseAddress)
            inBuffer[1] = UInt(bytes.count)
            inBuffer[2] = UInt(input.start)
            outBuffer[0] = UInt(bitPattern: space.baseAddress)
            outBuffer[1] = UInt(space.count)
            outBuffer[2] = 0
            let result = library.decompressStream(context, outBuffer, inBuffer)
            input.start = Int(inBuffer[2])
            produced += Int(outBuffer[2])
            return result
        }
    }
}
