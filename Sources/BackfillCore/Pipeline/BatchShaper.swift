import Foundation
import Synchronization

/// Keys already seen in a chunk of a source not in key order: a repeated key is quarantined as a
/// duplicate instead of overwriting the earlier record. One per claimed chunk.
final class SeenKeys: Sendable {
    private let filter = Mutex(DuplicateKeyFilter())

    /// Records the keys (the values at `keyIndices`) of `rows` in order, skipping `nil` rows, and
    /// returns the positions of the rows whose key was seen before — earlier in `rows` included.
    /// One lock for the batch.
    func repeated(in rows: [[Value]?], at keyIndices: [Int]) -> Set<Int> {
        let hashes = rows.map { $0.map { RowDigest.hash(of: $0, at: keyIndices) } }
        return filter.withLock { filter in
            Set(hashes.indices.filter { position in hashes[position].map { !filter.insert(hash: $0) } ?? false })
        }
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
        let results = batch.rows.map(shaper.shape)
        let repeated = seenKeys?.repeated(in: results.map { try? $0.get() }, at: job.keyIndices) ?? []
        for (index, result) in results.enumerated() {
            let line = batch.lines?[index]
            switch result {
            case .success(let typed):
                if repeated.contains(index) {
                    shaped.quarantine.append(record(
                        chunk: chunk, key: job.key(of: typed), line: line, type: "duplicate",
                        reason: "duplicate key: an earlier record has the same key", row: batch.rows[index], raw: nil))
                } else {
                    shaped.rows.append(typed)
                }
            case .failure(let rejection):
                shaped.quarantine.append(record(
                    chunk: chunk, key: job.key(of: batch.rows[index]), line: line, type: "data", reason: rejection.reason,
                    row: batch.rows[index], raw: nil))
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
