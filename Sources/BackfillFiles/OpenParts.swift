import BackfillCore
import Foundation

/// What a file source keeps between batches: the reader of each part left open where its last
/// batch ended, the parts found unchanged since their run planned them, and each CSV part's header.
///
/// A compressed part can only be decoded forward from its start; parking its reader means a part is
/// decoded once from start to end instead of again from its start for every batch. A reader is
/// taken out while a batch uses it, so no two reads share one.
final class OpenParts: @unchecked Sendable {
    /// Readers kept at most: one per worker reading a part, with room to spare.
    static let parkedLimit = 16

    private struct Parked {
        let path: String
        let offset: Int
        let reader: FileBlockReader
    }

    private let lock = NSLock()
    private var parked: [Parked] = []
    private var unchanged: Set<SourcePart> = []
    private var headers: [String: CSVHeader] = [:]

    /// The reader parked at `offset` of `path`, taken out; `nil` when there is none.
    func take(path: String, at offset: Int) -> FileBlockReader? {
        lock.withLock {
            guard let index = parked.firstIndex(where: { $0.path == path && $0.offset == offset }) else { return nil }
            return parked.remove(at: index).reader
        }
    }

    /// Keeps `reader`, which stands at `reader.consumedOffset` of `path`, for the next batch there.
    func park(_ reader: FileBlockReader, path: String) {
        lock.withLock {
            parked.removeAll { $0.path == path }
            if parked.count >= Self.parkedLimit { parked.removeFirst() }
            parked.append(Parked(path: path, offset: reader.consumedOffset, reader: reader))
        }
    }

    /// Checks, once per process, that `part` is still the file its run planned.
    /// - Throws: `BackfillError` `.invalidInput` naming the part and what changed.
    func checkUnchanged(_ part: SourcePart, format: String) throws {
        if lock.withLock({ unchanged.contains(part) }) { return }
        try PartFingerprint.check(part, format: format)
        lock.withLock { _ = unchanged.insert(part) }
    }

    /// The header of the CSV part at `path`, read once.
    func header(of path: String) throws -> CSVHeader {
        if let known = lock.withLock({ headers[path] }) { return known }
        let header = try CSVHeader.read(path: path)
        lock.withLock { headers[path] = header }
        return header
    }
}
