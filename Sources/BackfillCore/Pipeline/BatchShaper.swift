import Foundation
import Synchronization

/// Keys already seen in a chunk of a source not in key order: a repeated key is quarantined as a
/// duplicate instead of overwriting the earlier record. One per claimed chunk.
final class SeenKeys: Sendable {
    private let filter = Mutex(DuplicateKeyFilter())

    /// `true` the first time `key` is seen.
    func insert(_ key: [Value]) -> Bool { filter.withLock { $0.insert(key) } }

    /// For each of `rows` in order, `true` the first time its key (the values at `keyIndices`) is
    /// seen, a later row of `rows` included. One lock for the batch.
    func insert(keysOf rows: [[Value]], at keyIndices: [Int]) -> [Bool] {
        let hashes = rows.map { RowDigest.hash(of: $0, at: keyIndices) }
        return filter.withLock { filter in hashes.map { filter.insert(hash: $0) } }
    }
}

/// Turns a source batch into rows typed for the target, and quarantine records for the rest:
/// records the source could not parse, rows the shaper rejects, duplicate keys.
struct BatchShaper: Sendable {
    let runID: Int64
    let job: ResolvedJob
    let shaper: RowShaper

    /// The run's shaper: values typed for the target, strictly when the source gives text.
    init(context: WorkerContext) {
        self.runID = context.runID
        self.job = context.job
        self.shaper = RowShaper(job: context.job, strict: context.source.valuesAreText)
    }

    struct Shaped: Sendable {
        var rows: [[Value]] = []
        var quarantine: [QuarantineRecord] = []
    }

    func shape(_ batch: SourceBatch, chunk: ChunkRecord, seenKeys: SeenKeys?) -> Shaped {
        var shaped = Shaped()
        shaped.rows.reserveCapacity(batch.rows.count)
        for rejected in batch.rejected {
            shaped.quarantine.append(record(
                chunk: chunk, key: rejected.key, line: rejected.line, type: "data", reason: rejected.reason, row: nil, raw: rejected.raw))
        }
        var typedRows: [(row: Int, typed: [Value])] = []
        typedRows.reserveCapacity(batch.rows.count)
        for (index, row) in batch.rows.enumerated() {
            switch shaper.shape(row) {
            case .success(let typed):
                typedRows.append((index, typed))
            case .failure(let rejection):
                shaped.quarantine.append(record(
                    chunk: chunk, key: job.key(of: row), line: batch.lines?[index], type: "data", reason: rejection.reason, row: row,
                    raw: nil))
            }
        }
        let firstSeen = seenKeys?.insert(keysOf: typedRows.map(\.typed), at: job.keyIndices)
        for (position, (index, typed)) in typedRows.enumerated() {
            if let firstSeen, !firstSeen[position] {
                shaped.quarantine.append(record(
                    chunk: chunk, key: job.key(of: typed), line: batch.lines?[index], type: "duplicate",
                    reason: "duplicate key: an earlier record has the same key", row: batch.rows[index], raw: nil))
            } else {
                shaped.rows.append(typed)
            }
        }
        return shaped
    }

    /// A quarantine record of this run.
    func record(
        chunk: ChunkRecord, key: [Value]?, line: Int?, type: String, reason: String, row: [Value]?, raw: String?
    ) -> QuarantineRecord {
        QuarantineRecord(
            runID: runID, chunkIndex: chunk.index, key: key, line: line, errorType: type, reason: reason, row: row, raw: raw,
            at: Date())
    }
}
