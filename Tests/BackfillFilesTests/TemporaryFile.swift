import BackfillCore
import Foundation
import Testing

/// A real file in the temporary folder, removed when `body` returns.
func withTemporaryFile<R>(
    _ contents: String, extension fileExtension: String = "csv", _ body: (String) async throws -> R
) async throws -> R {
    try await withTemporaryFile(bytes: Array(contents.utf8), extension: fileExtension, body)
}

/// A real file holding `bytes` in the temporary folder, removed when `body` returns.
func withTemporaryFile<R>(
    bytes: [UInt8], extension fileExtension: String = "csv", _ body: (String) async throws -> R
) async throws -> R {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("backfill-files-\(UUID().uuidString)")
        .appendingPathExtension(fileExtension)
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url.path)
}

/// Everything a source returned over successive batches.
struct ReadResult {
    var rows: [[Value]] = []
    var lines: [Int] = []
    var rejected: [RejectedRow] = []
    var batches: [SourceBatch] = []
}

/// Reads `source` batch by batch from `cursor` until a batch says it is the last.
func readAll(_ source: some Source, batchSize: Int, from cursor: Cursor? = nil) async throws -> ReadResult {
    var result = ReadResult()
    var cursor = cursor
    // A guard against a source that never reports its end.
    for _ in 0..<100_000 {
        let batch = try await source.read(chunk: .all, after: cursor, limit: batchSize)
        result.rows += batch.rows
        result.lines += batch.lines ?? []
        result.rejected += batch.rejected
        result.batches.append(batch)
        cursor = batch.cursor
        if batch.isLast { return result }
    }
    Issue.record("the source never reported its last batch")
    return result
}

/// Text values, for short expectations.
func texts(_ values: String?...) -> [Value] {
    values.map { $0.map(Value.text) ?? .null }
}
