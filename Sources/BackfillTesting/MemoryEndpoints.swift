import BackfillCore
import Foundation
import Synchronization

/// What happened, in order, across a run's sink and state store: the evidence for invariant 1
/// (a batch's checkpoint commits only after its rows).
public final class OrderLog: Sendable {
    public enum Entry: Sendable, Equatable {
        /// The sink committed rows whose last key is `lastKey`.
        case wrote(lastKey: Int64, rows: Int)
        /// The state store committed a checkpoint whose cursor is `cursorKey`.
        case checkpointed(cursorKey: Int64?)
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    public func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    public var all: [Entry] { entries.withLock { $0 } }
}

/// A source held in memory: rows `(id INTEGER key, name TEXT, amount INTEGER)` in key order,
/// planned into equal key ranges. No database, for runner tests in Core.
public struct MemorySource: Source {
    public let rows: [[Value]]
    public let columns = ["id", "name", "amount"]
    public var valuesAreText: Bool { false }
    public var isKeyOrdered: Bool { true }

    /// Rows with ids `1...count`.
    public init(count: Int) {
        rows = (1...max(count, 1)).prefix(count).map { [.integer(Int64($0)), .text("row \($0)"), .integer(Int64($0) * 10)] }
    }

    public static var table: TableDescription {
        TableDescription(
            columns: [
                ColumnDescription(name: "id", declaredType: "INTEGER", notNull: true),
                ColumnDescription(name: "name", declaredType: "TEXT"),
                ColumnDescription(name: "amount", declaredType: "INTEGER"),
            ], uniqueKeys: [["id"]])
    }

    public func describe() async throws -> TableDescription { Self.table }

    public func checkKey() async throws {}

    public func plan(workers: Int) async throws -> [ChunkPlan] {
        let count = Int64(rows.count)
        let parts = Int64(max(1, workers))
        let step = max(1, (count + parts - 1) / parts)
        return stride(from: Int64(1), through: max(count, 1), by: Int(step)).enumerated().map { index, low in
            let upper: [Value]? = low + step > count ? nil : [.integer(low + step)]
            return ChunkPlan(
                index: index, range: KeyRange(lower: index == 0 ? nil : [.integer(low)], upper: upper),
                estimatedRows: Int(min(step, count - low + 1)))
        }
    }

    public func read(chunk: KeyRange, after cursor: Cursor?, limit: Int) async throws -> SourceBatch {
        let after = cursor?.key.flatMap(Self.id)
        let inChunk = rows.lazy.filter { row in
            chunk.contains([row[0]]) && (after.map { Self.id([row[0]])! > $0 } ?? true)
        }
        let taken = Array(inChunk.prefix(limit + 1))
        let batch = Array(taken.prefix(limit))
        return SourceBatch(rows: batch, cursor: batch.last.map { Cursor(key: [$0[0]]) } ?? cursor, isLast: taken.count <= limit)
    }

    public func fetch(keys: [[Value]]) async throws -> [[Value]]? {
        let wanted = Set(keys.compactMap(Self.id))
        return rows.filter { Self.id([$0[0]]).map(wanted.contains) ?? false }
    }

    static func id(_ key: [Value]) -> Int64? {
        if case .integer(let id) = key.first { return id }
        return nil
    }
}

/// A target held in memory, keyed by the first column: writes only rows that differ and counts
/// them like a real sink; a row whose `name` is `refuse` is refused with a data error, and the
/// first `transientFailures` writes fail with a transient one.
public final class MemorySink: Sink, Sendable {
    private struct State {
        var rows: [Int64: [Value]] = [:]
        var writes: [Int64: Int] = [:]
        var transientLeft: Int
    }

    private let state: Mutex<State>
    private let log: OrderLog?

    public init(transientFailures: Int = 0, log: OrderLog? = nil) {
        self.state = Mutex(State(transientLeft: transientFailures))
        self.log = log
    }

    /// The rows held now, by id.
    public var rows: [Int64: [Value]] { state.withLock { $0.rows } }

    /// How many times each id was written (inserted or updated).
    public var writes: [Int64: Int] { state.withLock { $0.writes } }

    /// Puts `rows` in the target as they are, without counting them as writes (a damaged copy).
    public func seed(_ rows: [[Value]]) {
        state.withLock { state in
            for row in rows { if let id = MemorySource.id([row[0]]) { state.rows[id] = row } }
        }
    }

    public func describe() async throws -> TableDescription { MemorySource.table }

    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        let outcome = try state.withLock { state -> WriteOutcome in
            if state.transientLeft > 0 {
                state.transientLeft -= 1
                throw BackfillError(.unavailable, kind: .transient, "injected outage", location: "memory sink")
            }
            if let bad = rows.first(where: { $0[1] == .text("refuse") }) {
                throw BackfillError(.writeFailed, kind: .data, "row \(bad[0]) refused", location: "memory sink")
            }
            var outcome = WriteOutcome()
            for row in rows {
                guard let id = MemorySource.id([row[0]]) else { continue }
                switch state.rows[id] {
                case nil: outcome.inserted += 1
                case row?: outcome.unchanged += 1; continue
                default: outcome.updated += 1
                }
                if !dryRun {
                    state.rows[id] = row
                    state.writes[id, default: 0] += 1
                }
            }
            return outcome
        }
        if let last = rows.last.flatMap({ MemorySource.id([$0[0]]) }) { log?.append(.wrote(lastKey: last, rows: rows.count)) }
        return outcome
    }
}

/// A `MemorySource` or `MemorySink` as one side of a window diff (`WindowHashing`), hashing rows
/// with `RowDigest` as a database hashes them inside itself, so `BucketRangeDiffer` runs without
/// a database.
public struct MemoryWindowHashing: WindowHashing {
    private let rows: @Sendable () -> [[Value]]
    /// What the differ asked of this side.
    public let calls = Calls()

    /// Counts of the differ's requests: bucket digests, and row hashes of one bucket holding every row.
    public final class Calls: Sendable {
        private let counts = Mutex((digests: 0, everyRow: 0))
        public var digests: Int { counts.withLock { $0.digests } }
        public var everyRow: Int { counts.withLock { $0.everyRow } }
        func record(digests: Int = 0, everyRow: Int = 0) {
            counts.withLock {
                $0.digests += digests
                $0.everyRow += everyRow
            }
        }
    }

    public init(source: MemorySource) { rows = { source.rows } }

    public init(sink: MemorySink) { rows = { sink.rows.sorted { $0.key < $1.key }.map(\.value) } }

    private func window(_ range: KeyRange, after cursor: [Value]?) -> [[Value]] {
        rows().filter { row in range.contains([row[0]]) && (cursor.map { KeyOrder.compare([row[0]], $0) > 0 } ?? true) }
            .sorted { KeyOrder.compare([$0[0]], [$1[0]]) < 0 }
    }

    public func windowBounds(in range: KeyRange, after cursor: [Value]?, limit: Int) async throws -> WindowBounds {
        let rows = window(range, after: cursor)
        guard !rows.isEmpty else { return WindowBounds(last: nil, next: nil) }
        return WindowBounds(last: [rows[min(limit, rows.count) - 1][0]], next: rows.count > limit ? [rows[limit][0]] : nil)
    }

    public func bucketDigests(in window: KeyRange, after cursor: [Value]?, buckets: Int) async throws -> [Int64: TableDigest] {
        calls.record(digests: 1)
        var digests: [Int64: TableDigest] = [:]
        for row in self.window(window, after: cursor) {
            digests[RowHash.bucket(of: RowDigest.hash([row[0]]), among: buckets), default: TableDigest()].add(row)
        }
        return digests
    }

    public func rowHashes(in window: KeyRange, after cursor: [Value]?, buckets: Int, among: [Int64]) async throws -> [RowHash] {
        if buckets <= 1 { calls.record(everyRow: 1) }
        return self.window(window, after: cursor).map { RowHash(key: [$0[0]], keyHash: RowDigest.hash([$0[0]]), hash: RowDigest.hash($0)) }
            .filter { among.contains(RowHash.bucket(of: $0.keyHash, among: buckets)) }
    }
}
