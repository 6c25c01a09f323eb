/// One file of an export (a CSV or JSONL file, or one of the files a directory or a glob names) as
/// it was when its run was planned. A chunk of an export covers exactly one part; on resume the part
/// must still be this file, or its byte offsets would point into other data.
public struct SourcePart: Codable, Sendable, Hashable {
    /// The part's path, as resolved when the run was planned.
    public var path: String
    /// Its size in bytes as stored (compressed, for a `.gz` or `.zst` part).
    public var size: Int
    /// Its modification time, in nanoseconds since 1970.
    public var modified: Int64
    /// The first 16 bytes of the SHA-256 of its first 64 KiB as stored, in hex.
    public var firstBlock: String

    public init(path: String, size: Int, modified: Int64, firstBlock: String) {
        self.path = path
        self.size = size
        self.modified = modified
        self.firstBlock = firstBlock
    }
}
