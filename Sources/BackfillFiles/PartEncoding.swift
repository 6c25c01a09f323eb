import BackfillCore
import Synchronization

/// How an export part's bytes are stored, from its name: `.gz` parts are gzip, `.zst` parts zstd,
/// every other file plain text. A part named compressed must hold that data.
enum PartEncoding: Sendable, Equatable {
    case plain, gzip, zstd

    /// The name endings of compressed parts, by encoding.
    private static let suffixes: [(suffix: String, encoding: PartEncoding)] = [
        (".gz", .gzip), (".gzip", .gzip), (".zst", .zstd), (".zstd", .zstd),
    ]

    init(path: String) {
        self = Self.compressionSuffix(of: path)?.encoding ?? .plain
    }

    fileprivate static func compressionSuffix(of path: String) -> (suffix: String, encoding: PartEncoding)? {
        let name = path.lowercased()
        return suffixes.first { name.hasSuffix($0.suffix) }
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

extension ExportParts {
    /// `path` without its `.gz`/`.zst` ending, naming what the part holds once decoded (`a.csv.gz` → `a.csv`).
    public static func uncompressedName(_ path: String) -> String {
        PartEncoding.compressionSuffix(of: path).map { String(path.dropLast($0.suffix.count)) } ?? path
    }
}

extension PartEncoding {
    /// Decodes a compressed part from start to end, keeping nothing, so damage anywhere in it is found
    /// before any of its records is used: gzip proves a member intact only by the checksum at its end,
    /// and corrupt deflate data can decode into wrong bytes before zlib notices. Plain files pass as
    /// they are.
    /// - Throws: `BackfillError` `.invalidInput` naming the part and the byte where decoding failed.
    ///
    /// A part is decoded once per process: a later check of the same fingerprint (size, modification
    /// time, first block — what resuming trusts too) passes without decoding it again.
    static func checkIntact(_ part: SourcePart, format: String) throws {
        guard PartEncoding(path: part.path) != .plain, !provenIntact.withLock({ $0.contains(part) }) else { return }
        let stream = try open(path: part.path, format: format)
        var scratch: [UInt8] = []
        scratch.reserveCapacity(1024 * 1024)
        repeat {
            scratch.removeAll(keepingCapacity: true)
        } while try stream.read(into: &scratch, count: 1024 * 1024) > 0
        provenIntact.withLock { _ = $0.insert(part) }
    }

    /// Compressed parts decoded whole without damage in this process.
    private static let provenIntact = Mutex<Set<SourcePart>>([])
}
