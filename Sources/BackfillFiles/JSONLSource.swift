import BackfillCore
import Logging

/// A JSONL export: one JSON object per line, read in file order: one file, or the parts a
/// directory or a glob names, plain or `.gz`/`.zst`. Each part is a chunk.
///
/// Each row takes its columns from the object's keys (matched exactly first, then ignoring case).
/// JSON strings read as `.text`, integer literals as `.integer`, literals with a fraction or an
/// exponent as `.real`, `true`/`false` as `.integer(1)`/`.integer(0)`, `null` and missing keys as
/// `.null`, and nested arrays and objects as `.text` holding their compact JSON. An integer beyond
/// 64 bits, or a number beyond `Double`, keeps its digits as `.text` rather than lose precision.
///
/// The file is read forward from a byte offset in blocks, a batch at a time, so memory stays bounded
/// by the batch size whatever the file size. A line that is not a JSON object does not stop the run:
/// it is returned in `SourceBatch.rejected` with its line number and text. Blank lines are skipped.
public struct JSONLSource: Source {
    /// The JSONL file, or a directory or glob of parts.
    public let path: String
    private let requestedColumns: [String]?
    private let export: PartedExport
    /// Lines longer than this many bytes are rejected rather than buffered. Default 16 MiB.
    public var maxRecordBytes = FileBatchReader.defaultMaxRecordBytes

    /// Creates a source reading `path`.
    /// - Parameter columns: the columns each row carries, in order; `nil` for the keys found in the
    ///   first lines, in order of first appearance.
    public init(path: String, columns: [String]?) {
        self.path = path
        self.requestedColumns = columns
        self.export = PartedExport(location: path, format: "JSONL")
    }

    /// The columns each row carries: the ones asked for, or else the keys of the file's first lines
    /// (read from the file; empty when it cannot be read).
    public var columns: [String] {
        requestedColumns ?? (try? sampledKeys()) ?? []
    }

    /// `true`: JSON strings are typed strictly by the target's columns.
    public var valuesAreText: Bool { true }

    /// `false`: records come in file order, whatever their keys.
    public var isKeyOrdered: Bool { false }

    /// Describes the file's columns as the union of the keys of its first 100 objects.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be opened, is empty, or none of
    ///   its first lines is a JSON object.
    public func describe() async throws -> TableDescription {
        TableDescription(columns: try sampledKeys().map { ColumnDescription(name: $0, declaredType: "") })
    }

    /// Does nothing: a file has no key constraint to check, and the runner quarantines duplicate keys.
    public func checkKey() async throws {}

    /// Checks that each chunk's part is still the file the run planned (size, modification time and
    /// first 64 KiB), so that resuming never reads from offsets into other data.
    /// - Throws: `BackfillError` `.invalidInput` naming the part that changed.
    public func checkResumable(_ chunks: [KeyRange]) async throws {
        try export.checkUnchanged(chunks)
    }

    /// One chunk per part, its row count estimated from the first lines and the file size.
    /// - Throws: `BackfillError` `.invalidInput` when the location names no file or a part cannot be
    ///   opened or read.
    public func plan(workers: Int) async throws -> [ChunkPlan] {
        try export.plan { part in
            try RowEstimator.estimate(path: part, format: "JSONL", from: try ByteOrderMark.dataStart(of: part, format: "JSONL"))
        }
    }

    /// Reads up to `limit` records of `chunk`'s part after `cursor` (from its first line when `nil`).
    ///
    /// Rows and rejected lines together number at most `limit`. The batch's cursor holds the byte
    /// offset after the last line consumed and the line the next record starts on.
    /// - Throws: `BackfillError` `.invalidInput` when the part cannot be read or decoded or changed since
    ///   the run planned it, or `cursor` is not a file cursor or lies past the end of the part.
    public func read(chunk: KeyRange, after cursor: Cursor?, limit: Int) async throws -> SourceBatch {
        let path = try export.path(of: chunk)
        let start =
            try cursor.map { try FilePosition(cursor: $0, path: path) }
            ?? ByteOrderMark.dataStart(of: path, format: "JSONL")
        guard limit > 0 else { return SourceBatch(rows: [], lines: [], cursor: start.cursor, isLast: false) }
        var scanner = JSONLRecordScanner(columns: try requestedColumns ?? sampledKeys(), maxRecordBytes: maxRecordBytes)
        var reader = FileBatchReader(path: path, format: "JSONL")
        reader.maxRecordBytes = maxRecordBytes
        reader.openParts = export.openParts
        let batch = export.naming(path, in: try reader.read(from: start, limit: limit, with: &scanner))
        FileSourceLog.batchRead(batch)
        return batch
    }

    private func sampledKeys() throws -> [String] {
        let path = try export.firstPart()
        return try JSONLKeySampler.keys(
            path: path, from: ByteOrderMark.dataStart(of: path, format: "JSONL"), maxRecordBytes: maxRecordBytes)
    }
}
