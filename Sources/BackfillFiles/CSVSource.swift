import BackfillCore
import Foundation
import Logging

/// A CSV export with a header row (RFC 4180), read in file order as text values.
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
public struct CSVSource: Source {
    /// The CSV file.
    public let path: String
    private let requestedColumns: [String]?
    /// Records longer than this many bytes are rejected rather than buffered, so a missing closing
    /// quote cannot pull the rest of a large file into memory. Default 16 MiB.
    public var maxRecordBytes = FileBatchReader.defaultMaxRecordBytes

    /// Creates a source reading `path`.
    /// - Parameter columns: the columns each row carries, in order, matched to header names ignoring
    ///   case; `nil` for every header column in header order.
    public init(path: String, columns: [String]?) {
        self.path = path
        self.requestedColumns = columns
    }

    /// The columns each row carries: the ones asked for, or else the header's (read from the file;
    /// empty when it cannot be read).
    public var columns: [String] {
        requestedColumns ?? (try? CSVHeader.read(path: path).names) ?? []
    }

    /// `true`: CSV values are text, typed strictly by the target's columns.
    public var valuesAreText: Bool { true }

    /// `false`: records come in file order, whatever their keys.
    public var isKeyOrdered: Bool { false }

    /// Describes the file's columns from its header row, without reading further.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be opened, is empty, or its header
    ///   is malformed or names a column twice.
    public func describe() async throws -> TableDescription {
        let header = try CSVHeader.read(path: path)
        return TableDescription(columns: header.names.map { ColumnDescription(name: $0, declaredType: "") })
    }

    /// Does nothing: a file has no key constraint to check, and the runner quarantines duplicate keys.
    public func checkKey() async throws {}

    /// One chunk over the whole file, its row count estimated from the first lines and the file size.
    /// - Throws: `BackfillError` `.invalidInput` when the file or its header cannot be read.
    public func plan(workers: Int) async throws -> [ChunkPlan] {
        let header = try CSVHeader.read(path: path)
        let rows = try RowEstimator.estimate(path: path, format: "CSV", from: header.dataStart)
        return [ChunkPlan(index: 0, range: .all, estimatedRows: rows)]
    }

    /// Reads up to `limit` records after `cursor` (after the header when `nil`); `chunk` is ignored, as
    /// the file is one chunk.
    ///
    /// Rows and rejected records together number at most `limit`. The batch's cursor holds the byte
    /// offset after the last record consumed and the physical line the next record starts on.
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be read, its header lacks a
    ///   column, or `cursor` is not a file cursor or lies past the end of the file.
    public func read(chunk: KeyRange, after cursor: Cursor?, limit: Int) async throws -> SourceBatch {
        let header = try CSVHeader.read(path: path)
        let columns = requestedColumns ?? header.names
        let start = try cursor.map { try FilePosition(cursor: $0, path: path) } ?? header.dataStart
        guard limit > 0 else { return SourceBatch(rows: [], lines: [], cursor: start.cursor, isLast: false) }
        var scanner = CSVRecordScanner(
            fieldCount: header.names.count, positions: try header.positions(of: columns, path: path),
            columns: columns, maxRecordBytes: maxRecordBytes)
        var reader = FileBatchReader(path: path, format: "CSV")
        reader.maxRecordBytes = maxRecordBytes
        let batch = try reader.read(from: start, limit: limit, with: &scanner)
        FileSourceLog.batchRead(batch)
        return batch
    }
}
