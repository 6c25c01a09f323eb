/// How an export part's bytes are stored, from its name: `.gz` parts are gzip, `.zst` parts zstd,
/// every other file plain text. A part named compressed must hold that data.
enum PartEncoding: Sendable, Equatable {
    case plain, gzip, zstd

    init(path: String) {
        let name = path.lowercased()
        if name.hasSuffix(".gz") || name.hasSuffix(".gzip") {
            self = .gzip
        } else if name.hasSuffix(".zst") || name.hasSuffix(".zstd") {
            self = .zstd
        } else {
            self = .plain
        }
    }

    /// Opens `path` to be read from its first decoded byte; `format` names the file kind in errors.
    /// - Throws: `BackfillError` `.invalidInput` when it cannot be opened, or is named compressed but
    ///   does not hold that data.
    static func open(path: String, format: String) throws -> any DecodedStream {
        switch PartEncoding(path: path) {
        case .plain: try PlainFileStream(path: path, format: format)
        case .gzip: try GzipStream(path: path, format: format)
        case .zstd: try ZstdStream(path: path, format: format)
        }
    }
}

extension PartEncoding {
    /// Decodes a compressed part from start to end, keeping nothing, so damage anywhere in it is found
    /// before any of its records is used: gzip proves a member intact only by the checksum at its end,
    /// and corrupt deflate data can decode into wrong bytes before zlib notices. Plain files pass as
    /// they are.
    /// - Throws: `BackfillError` `.invalidInput` naming the part and the byte where decoding failed.
    static func checkIntact(path: String, format: String) throws {
        guard PartEncoding(path: path) != .plain else { return }
        let stream = try open(path: path, format: format)
        var scratch: [UInt8] = []
        scratch.reserveCapacity(1024 * 1024)
        repeat {
            scratch.removeAll(keepingCapacity: true)
        } while try stream.read(into: &scratch, count: 1024 * 1024) > 0
    }
}
