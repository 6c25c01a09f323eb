import BackfillCore
import Foundation
import Synchronization

/// An append-only JSON Lines file of events (`target: {jsonl: PATH}` with `events:` and
/// `mode: insert-missing`): each event becomes one line — the same JSON object a webhook would
/// receive — and an event whose id is already in the file is never appended again.
///
/// The file itself is the ledger: on opening, the ids of its lines are read (a last line cut
/// short by a crash is removed first), and every batch is flushed to disk before its checkpoint.
public final class JSONLEventSink: Sink, Sendable {
    public let path: String
    private let columns: [String]
    private let idIndex: Int
    /// The ids in the file, and the file open for appending: one batch appends at a time.
    private let file: Mutex<(ids: Set<String>, handle: FileHandle)>

    /// Opens (or creates) the file for the job's event columns.
    /// - Throws: `BackfillError` `.invalidInput` naming the file and line when a line is not a
    ///   JSON object with the id member.
    public init(path: String, job: ResolvedJob) throws {
        guard let events = job.spec.events,
            let idIndex = job.columns.firstIndex(where: { $0.caseInsensitiveCompare(events.id) == .orderedSame })
        else { throw BackfillError(.invalidSpec, "a JSONL event target needs events: with an id among the columns", location: "events.id") }
        self.path = path
        self.columns = job.columns
        self.idIndex = idIndex
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw BackfillError(.invalidInput, "cannot create the events file", location: path)
            }
        }
        let ids = try Self.readIDs(path: path, idColumn: job.columns[idIndex])
        do {
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.seekToEnd()
            file = Mutex((ids, handle))
        } catch {
            throw BackfillError(.invalidInput, "cannot open the events file for appending", location: path, underlying: error)
        }
    }

    deinit { file.withLock { try? $0.handle.close() } }

    /// The ids already in the file; a last line without its newline (a crash mid-append) is cut off.
    private static func readIDs(path: String, idColumn: String) throws -> Set<String> {
        let (ids, complete, size) = try parseIDs(path: path, idColumn: idColumn)
        if complete < size {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: UInt64(complete))
            try handle.close()
        }
        return ids
    }

    /// The ids of the events the file at `path` holds, read without changing it (a last line
    /// without its newline, cut off by a crash mid-append, is not counted): what `verify` checks a
    /// JSONL event log's deliveries against. A missing file holds none.
    /// - Throws: `BackfillError` `.invalidInput` when it cannot be read or a line is not a JSON
    ///   object with the id.
    public static func deliveredIDs(path: String, job: ResolvedJob) throws -> Set<String> {
        guard let events = job.spec.events else { throw BackfillError(.invalidSpec, "a JSONL event target needs events:", location: "events") }
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try parseIDs(path: path, idColumn: events.id).ids
    }

    /// The ids of the file's complete lines, where those lines end, and the file's size.
    private static func parseIDs(path: String, idColumn: String) throws -> (ids: Set<String>, complete: Int, size: Int) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BackfillError(.invalidInput, "cannot read the events file", location: path)
        }
        var complete = data.count
        if let last = data.last, last != UInt8(ascii: "\n") {
            complete = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        }
        var ids: Set<String> = []
        var lineNumber = 0
        for line in data.prefix(complete).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            guard !line.isEmpty else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let id = object.first(where: { $0.key.caseInsensitiveCompare(idColumn) == .orderedSame })?.value
            else {
                throw BackfillError(.invalidInput, "line \(lineNumber) is not a JSON object with '\(idColumn)'", location: path)
            }
            ids.insert(Self.text(id))
        }
        return (ids, complete, data.count)
    }

    private static func text(_ member: Any) -> String {
        if let number = member as? NSNumber { return number.stringValue }
        return "\(member)"
    }

    public func describe() async throws -> TableDescription { TableDescription(columns: []) }

    /// Appends the events not yet in the file, in order, and flushes them to disk.
    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        let (columns, idIndex, path) = (self.columns, self.idIndex, self.path)
        return try file.withLock { file in
            var lines: [UInt8] = []
            var added: [String] = []
            var seen = file.ids
            for row in rows {
                let id = EventID.text(row[idIndex])
                guard seen.insert(id).inserted else { continue }
                lines += EventJSON.encode(columns: columns, row: row)
                lines.append(UInt8(ascii: "\n"))
                added.append(id)
            }
            if !dryRun && !lines.isEmpty {
                do {
                    try file.handle.write(contentsOf: lines)
                    try file.handle.synchronize()
                } catch {
                    throw BackfillError(.writeFailed, "cannot append to the events file", location: path, underlying: error)
                }
                file.ids = seen
            }
            return WriteOutcome(inserted: added.count, unchanged: rows.count - added.count)
        }
    }
}
