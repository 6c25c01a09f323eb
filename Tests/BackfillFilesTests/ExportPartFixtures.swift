import BackfillCore
import Foundation
import Testing

/// A temporary directory of export parts, removed by `remove()`.
struct PartDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("backfill-parts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `text` to `name` in the directory; returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Compresses `name` in place with the real `gzip` or `zstd` tool (the original is removed);
    /// returns the compressed file's path.
    @discardableResult
    func compress(_ name: String, with tool: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = tool == "zstd" ? ["zstd", "-q", "--rm", name] : ["gzip", name]
        process.currentDirectoryURL = URL(fileURLWithPath: path)
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(tool) \(name) failed")
        return path + "/" + name + (tool == "zstd" ? ".zst" : ".gz")
    }

    func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A CSV export of `rows` rows (ids from `first`) with a quoted field holding a comma and, every
/// tenth row, a line break.
func csvExport(rows: Int, first: Int = 1) -> String {
    var text = "id,name,amount\n"
    for id in first..<(first + rows) {
        let name = id % 10 == 0 ? "name \(id),\nsecond line" : "name \(id), x"
        text += "\(id),\"\(name)\",\(Double(id) * 1.5)\n"
    }
    return text
}

/// Reads every chunk `source` plans, batch by batch, in plan order.
func readAllChunks(_ source: some Source, batchSize: Int) async throws -> [[Value]] {
    var rows: [[Value]] = []
    for chunk in try await source.plan(workers: 2) {
        var cursor: Cursor?
        while true {
            let batch = try await source.read(chunk: chunk.range, after: cursor, limit: batchSize)
            rows += batch.rows
            cursor = batch.cursor
            if batch.isLast { break }
        }
    }
    return rows
}
