import BackfillCore
import Foundation
import Logging

/// A CSV export with a header row (RFC 4180), read in file order as text values: one file, or the
/// parts a directory or a glob names (each with its own header row), plain or `.gz`/`.zst`.
///
/// Fields are separated by `,` and may be quoted with `"`; inside quotes `""` stands for a quote and
/// commas and line breaks are data. Records end with LF or CRLF; the last one may lack it. An empty
/// unquoted field reads as `.null`, a quoted empty field `""` as `.text("")`, every other field as
/// `.text`: the runner types values by the target's columns.
///
/// The file is read forward from a byte offset in blocks, a batch at a time, so memory stays bounded
/// by the batch size whatever the file size. A malformed record does not stop the run: it is returned
/// in `SourceBatch.rejected` with its line and raw text, and reading goes on with the next record.
/// Blank lines are skipped.
///
/// Each part is a chunk, so parts are read in parallel by the run's workers, each from its own byte
/// offset (in decoded bytes for a compressed part).
public struct CSVSource: Source {
    /// The CSV file, or a directory or glob of parts.
    public let path: String
    private let requestedColumns: [String]?
    private let export: PartedExport
    /// Records longer than this many bytes are rejected rather than buffered, so a missing closing
    /// quote cannot pull the rest of a large file into memory. Default 16 MiB.
    public var maxRecordBytes = FileBatchReader.defaultMaxRecordBytes

    /// Creates a source reading `path`.
    /// - Parameter columns: the columns each row carries, in order, matched to header names ignoring
    ///   case; `nil` for every header column in header order.
    public init(path: String, columns: [String]?) {
        self.path = path
        self.requestedColumns = columns
        self.export = PartedExport(location: path, format: "CSV")
    }

    /// The columns each row carries: the ones asked for, or else the (first part's) header's (read
    /// from the file; empty when it cannot be read).
    public var columns: [String] {
        requestedColumns ?? (try? firstHeader().names) ?? []
    }

    /// `true`: CSV values are text, typed strictly by the target's columns.
    public var valuesAreText: Bool { true }

    /// `false`: records come in file order, whatever their keys.
    public var isKeyOrdered: Bool { false }

    /// Describes the file's columns from its (first part's) header row, without reading further.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be opened, is empty, or its header
    ///   is malformed or names a column twice.
    public func describe() async throws -> TableDescription {
        let header = try firstHeader()
        return TableDescription(columns: header.names.map { ColumnDescription(name: $0, declaredType: "") })
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
    /// - Throws: `BackfillError` `.invalidInput` when the location names no file, or a part or its
    ///   header cannot be read or lacks a column.
    public func plan(workers: Int) async throws -> [ChunkPlan] {
        let columns = try requestedColumns ?? firstHeader().names
        return try export.plan { part in
            let header = try export.openParts.header(of: part)
            _ = try header.positions(of: columns, path: part)
            return try RowEstimator.estimate(path: part, format: "CSV", from: header.dataStart)
        }
    }

    /// Reads up to `limit` records of `chunk`'s part after `cursor` (after its header when `nil`).
    ///
    /// Rows and rejected records together number at most `limit`. The batch's cursor holds the byte
    /// offset after the last record consumed and the physical line the next record starts on.
    /// - Throws: `BackfillError` `.invalidInput` when the part cannot be read or decoded or changed since
    ///   the run planned it, its header lacks a column, or `cursor` is not a file cursor or lies past
    ///   the end of the part.
    public func read(chunk: KeyRange, after cursor: Cursor?, limit: Int) async throws -> SourceBatch {
        let path = try export.path(of: chunk)
        let header = try export.openParts.header(of: path)
        let columns = try requestedColumns ?? firstHeader().names
        let start = try cursor.map { try FilePosition(cursor: $0, path: path) } ?? header.dataStart
        guard limit > 0 else { return SourceBatch(rows: [], lines: [], cursor: start.cursor, isLast: false) }
        var scanner = CSVRecordScanner(
            fieldCount: header.names.count, positions: try header.positions(of: columns, path: path),
            columns: columns, maxRecordBytes: maxRecordBytes)
        var reader = FileBatchReader(path: path, format: "CSV")
        reader.maxRecordBytes = maxRecordBytes
        reader.openParts = export.openParts
        let batch = export.naming(path, in: try reader.read(from: start, limit: limit, with: &scanner))
        FileSourceLog.batchRead(batch)
        return batch
    }

    private func firstHeader() throws -> CSVHeader {
        try export.openParts.header(of: export.firstPart())
    }
}
