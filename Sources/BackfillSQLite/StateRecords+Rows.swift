import BackfillCore
import Foundation
import GRDB

/// Decoding of state-store rows into Core records; JSON columns hold cursors, ranges and keys.
enum StateRows {
    static func json(_ value: some Encodable) throws -> String { try StateJSON.encode(value) }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? { try StateJSON.decode(type, text) }

    static func counters(_ row: Row) -> Counters {
        var counters = Counters()
        counters.read = row["read"]
        counters.inserted = row["inserted"]
        counters.updated = row["updated"]
        counters.unchanged = row["unchanged"]
        counters.skipped = row["skipped"]
        counters.quarantined = row["quarantined"]
        counters.batches = row["batches"]
        counters.retries = row["retries"]
        counters.shippedRows = row["shipped_rows"] ?? 0
        counters.shippedBytes = row["shipped_bytes"] ?? 0
        counters.sourceHashBytes = row["source_hash_bytes"] ?? 0
        counters.targetHashBytes = row["target_hash_bytes"] ?? 0
        return counters
    }

    /// - Throws: `BackfillError` `.invalidInput` naming the table for a status this version does not know.
    static func run(_ row: Row) throws -> RunRecord {
        var run = RunRecord(
            id: row["id"], job: row["job"], specFingerprint: row["fingerprint"],
            status: try StateJSON.status(row["status"], RunStatus.self, table: "runs"), reason: row["reason"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            activeSeconds: row["active_seconds"], counters: counters(row), chunksTotal: row["chunks_total"],
            chunksDone: row["chunks_done"], estimatedRows: row["estimated_rows"], owner: row["owner"])
        // Knobs, waits and the last verification are advisory: one an older version wrote differently is left out.
        if let knobs = try? decode(RunKnobs.self, row["knobs"]) { run.knobs = knobs }
        if let waits = try? decode(WaitTimes.self, row["waits"]) { run.waits = waits }
        run.batchSize = row["batch_size"]
        run.lastVerification = try? decode(VerificationSummary.self, row["last_verification"])
        return run
    }

    static func sample(_ row: Row) -> RunSample {
        RunSample(
            at: Date(timeIntervalSince1970: row["at"]), counters: counters(row), activeSeconds: row["active_seconds"],
            batchSize: row["batch_size"], chunksDone: row["chunks_done"])
    }

    /// - Throws: `BackfillError` `.invalidInput` naming the table and column for a range, cursor or
    ///   status this version cannot read — never a default in its place.
    static func chunk(_ row: Row) throws -> ChunkRecord {
        ChunkRecord(
            id: row["id"], runID: row["run_id"], index: row["idx"],
            range: try StateJSON.required(KeyRange.self, row["range"], table: "chunks", column: "range"), estimatedRows: row["estimated_rows"],
            status: try StateJSON.status(row["status"], ChunkStatus.self, table: "chunks"),
            cursor: try StateJSON.column(BackfillCore.Cursor.self, row["cursor"], table: "chunks", column: "cursor"),
            counters: counters(row))
    }

    static func quarantine(_ row: Row) throws -> QuarantineRecord {
        var record = QuarantineRecord(
            runID: row["run_id"], chunkIndex: row["chunk_idx"], key: try decode([BackfillCore.Value].self, row["key"]),
            line: row["line"], errorType: row["error_type"], reason: row["reason"],
            row: try decode([BackfillCore.Value].self, row["row"]), raw: row["raw"],
            at: Date(timeIntervalSince1970: row["at"]))
        record.id = row["id"]
        record.resolvedAt = (row["resolved_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        return record
    }
}
