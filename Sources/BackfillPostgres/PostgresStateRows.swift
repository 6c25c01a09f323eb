import BackfillCore
import Foundation

/// Decoding of state-store rows (read as `to_jsonb(row)`) into Core records; text columns hold
/// cursors, ranges, keys and knobs as JSON, the same encoding as the SQLite store.
enum PostgresStateRows {
    static func object(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    static func json(_ value: some Encodable) throws -> String { try StateJSON.encode(value) }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? { try StateJSON.decode(type, text) }

    static func int64(_ value: Any?) -> Int64? { (value as? NSNumber)?.int64Value }
    static func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }
    static func double(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
    static func string(_ value: Any?) -> String? { value as? String }

    static func counters(_ object: [String: Any]) -> Counters {
        var counters = Counters()
        counters.read = int(object["read"]) ?? 0
        counters.inserted = int(object["inserted"]) ?? 0
        counters.updated = int(object["updated"]) ?? 0
        counters.unchanged = int(object["unchanged"]) ?? 0
        counters.skipped = int(object["skipped"]) ?? 0
        counters.quarantined = int(object["quarantined"]) ?? 0
        counters.batches = int(object["batches"]) ?? 0
        counters.retries = int(object["retries"]) ?? 0
        return counters
    }

    static func run(_ object: [String: Any]) -> RunRecord {
        var run = RunRecord(
            id: int64(object["id"]) ?? 0, job: string(object["job"]) ?? "", specFingerprint: string(object["fingerprint"]) ?? "",
            status: RunStatus(rawValue: string(object["status"]) ?? "") ?? .failed, reason: string(object["reason"]),
            createdAt: Date(timeIntervalSince1970: double(object["created_at"]) ?? 0),
            updatedAt: Date(timeIntervalSince1970: double(object["updated_at"]) ?? 0),
            finishedAt: double(object["finished_at"]).map(Date.init(timeIntervalSince1970:)),
            activeSeconds: double(object["active_seconds"]) ?? 0, counters: counters(object),
            chunksTotal: int(object["chunks_total"]) ?? 0, chunksDone: int(object["chunks_done"]) ?? 0,
            estimatedRows: int(object["estimated_rows"]) ?? 0, owner: string(object["owner"]))
        if let knobs = try? decode(RunKnobs.self, string(object["knobs"])) { run.knobs = knobs }
        if let waits = try? decode(WaitTimes.self, string(object["waits"])) { run.waits = waits }
        run.batchSize = int(object["batch_size"])
        run.lastVerification = try? decode(VerificationSummary.self, string(object["last_verification"]))
        return run
    }

    static func sample(_ object: [String: Any]) -> RunSample {
        RunSample(
            at: Date(timeIntervalSince1970: double(object["at"]) ?? 0), counters: counters(object),
            activeSeconds: double(object["active_seconds"]) ?? 0, batchSize: int(object["batch_size"]),
            chunksDone: int(object["chunks_done"]) ?? 0)
    }

    static func chunk(_ object: [String: Any]) -> ChunkRecord {
        var chunk = ChunkRecord(
            id: int64(object["id"]) ?? 0, runID: int64(object["run_id"]) ?? 0, index: int(object["idx"]) ?? 0,
            range: (try? decode(KeyRange.self, string(object["range"]))) ?? .all, estimatedRows: int(object["estimated_rows"]) ?? 0,
            status: ChunkStatus(rawValue: string(object["status"]) ?? "") ?? .pending,
            cursor: try? decode(BackfillCore.Cursor.self, string(object["cursor"])), counters: counters(object))
        chunk.generation = int(object["generation"]) ?? 0
        return chunk
    }

    static func quarantine(_ object: [String: Any]) -> QuarantineRecord {
        var record = QuarantineRecord(
            runID: int64(object["run_id"]) ?? 0, chunkIndex: int(object["chunk_idx"]) ?? 0,
            key: try? decode([BackfillCore.Value].self, string(object["key"])), line: int(object["line"]),
            errorType: string(object["error_type"]) ?? "", reason: string(object["reason"]) ?? "",
            row: try? decode([BackfillCore.Value].self, string(object["row"])), raw: string(object["raw"]),
            at: Date(timeIntervalSince1970: double(object["at"]) ?? 0))
        record.id = int64(object["id"]) ?? 0
        record.resolvedAt = double(object["resolved_at"]).map(Date.init(timeIntervalSince1970:))
        return record
    }
}
