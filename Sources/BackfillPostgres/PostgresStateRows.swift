import BackfillCore
import Foundation

/// The state store's rows, read as `to_jsonb(row)::text` and decoded into typed rows (one per
/// table, named by its columns), then into Core records. Text columns hold cursors, ranges, keys
/// and knobs as JSON, the same encoding as the SQLite store. A row that does not decode (a store
/// changed by hand, a status this version does not know) is an error naming the table, never a
/// record with made-up values.
enum PostgresStateRows {
    static func json(_ value: some Encodable) throws -> String { try StateJSON.encode(value) }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? { try StateJSON.decode(type, text) }

    /// One row of `table`, from its `to_jsonb` text.
    /// - Throws: `BackfillError` `.invalidInput` naming the table and the column that does not decode.
    static func row<Row: Decodable>(_ type: Row.Type, _ text: String, table: String) throws -> Row {
        do {
            return try JSONDecoder().decode(Row.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw BackfillError(.invalidInput, "the state store's \(table) table holds a row this version cannot read (\(Self.describe(error)))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "column \(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "column \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    static func counters(_ text: String, table: String) throws -> Counters { try row(CountersRow.self, text, table: table).counters }
}

/// A row of `backfill.runs`.
struct RunRow: Decodable {
    var id: Int64
    var job: String
    var fingerprint: String
    var status: String
    var reason: String?
    var created_at: Double
    var updated_at: Double
    var finished_at: Double?
    var active_seconds: Double
    var chunks_total: Int
    var chunks_done: Int
    var estimated_rows: Int
    var owner: String?
    var knobs: String?
    var waits: String?
    var batch_size: Int?
    var last_verification: String?

    /// The run `text` (its row's `to_jsonb`) describes.
    static func record(_ text: String) throws -> RunRecord {
        let row = try PostgresStateRows.row(RunRow.self, text, table: "runs")
        var run = RunRecord(
            id: row.id, job: row.job, specFingerprint: row.fingerprint,
            status: try StateJSON.status(row.status, RunStatus.self, table: "runs"), reason: row.reason,
            createdAt: Date(timeIntervalSince1970: row.created_at), updatedAt: Date(timeIntervalSince1970: row.updated_at),
            finishedAt: row.finished_at.map(Date.init(timeIntervalSince1970:)), activeSeconds: row.active_seconds,
            counters: try PostgresStateRows.counters(text, table: "runs"), chunksTotal: row.chunks_total, chunksDone: row.chunks_done,
            estimatedRows: row.estimated_rows, owner: row.owner)
        // Knobs, waits and the last verification are advisory (as in the SQLite store): one an older
        // version wrote differently is left out, not an error.
        if let knobs = try? PostgresStateRows.decode(RunKnobs.self, row.knobs) { run.knobs = knobs }
        if let waits = try? PostgresStateRows.decode(WaitTimes.self, row.waits) { run.waits = waits }
        run.batchSize = row.batch_size
        run.lastVerification = try? PostgresStateRows.decode(VerificationSummary.self, row.last_verification)
        return run
    }
}

/// A row of `backfill.chunks`.
struct ChunkRow: Decodable {
    var id: Int64
    var run_id: Int64
    var idx: Int
    var range: String
    var estimated_rows: Int
    var status: String
    var cursor: String?
    var generation: Int

    static func record(_ text: String) throws -> ChunkRecord {
        let row = try PostgresStateRows.row(ChunkRow.self, text, table: "chunks")
        var chunk = ChunkRecord(
            id: row.id, runID: row.run_id, index: row.idx, range: try StateJSON.required(KeyRange.self, row.range, table: "chunks", column: "range"),
            estimatedRows: row.estimated_rows, status: try StateJSON.status(row.status, ChunkStatus.self, table: "chunks"),
            cursor: try StateJSON.column(BackfillCore.Cursor.self, row.cursor, table: "chunks", column: "cursor"), counters: try PostgresStateRows.counters(text, table: "chunks"))
        chunk.generation = row.generation
        return chunk
    }
}

/// A row of `backfill.samples`.
struct SampleRow: Decodable {
    var at: Double
    var active_seconds: Double
    var batch_size: Int?
    var chunks_done: Int

    static func record(_ text: String) throws -> RunSample {
        let row = try PostgresStateRows.row(SampleRow.self, text, table: "samples")
        return RunSample(
            at: Date(timeIntervalSince1970: row.at), counters: try PostgresStateRows.counters(text, table: "samples"),
            activeSeconds: row.active_seconds, batchSize: row.batch_size, chunksDone: row.chunks_done)
    }
}

/// A row of `backfill.quarantine`.
struct QuarantineRow: Decodable {
    var id: Int64
    var run_id: Int64
    var chunk_idx: Int
    var key: String?
    var line: Int?
    var error_type: String
    var reason: String
    var row: String?
    var raw: String?
    var at: Double
    var resolved_at: Double?

    static func record(_ text: String) throws -> QuarantineRecord {
        let row = try PostgresStateRows.row(QuarantineRow.self, text, table: "quarantine")
        var record = QuarantineRecord(
            runID: row.run_id, chunkIndex: row.chunk_idx, key: try StateJSON.column([BackfillCore.Value].self, row.key, table: "quarantine", column: "key"),
            line: row.line, errorType: row.error_type, reason: row.reason,
            row: try StateJSON.column([BackfillCore.Value].self, row.row, table: "quarantine", column: "row"), raw: row.raw, at: Date(timeIntervalSince1970: row.at))
        record.id = row.id
        record.resolvedAt = row.resolved_at.map(Date.init(timeIntervalSince1970:))
        return record
    }
}

/// A row of `backfill.events`.
struct EventRow: Decodable {
    var run_id: Int64
    var at: Double
    var kind: String
    var message: String

    static func record(_ text: String) throws -> RunEvent {
        let row = try PostgresStateRows.row(EventRow.self, text, table: "events")
        return RunEvent(runID: row.run_id, at: Date(timeIntervalSince1970: row.at), kind: row.kind, message: row.message)
    }
}

/// The counter columns of a row of `runs`, `chunks` or `samples`.
struct CountersRow: Decodable {
    var read: Int
    var inserted: Int
    var updated: Int
    var unchanged: Int
    var skipped: Int
    var quarantined: Int
    var batches: Int
    var retries: Int
    var shipped_rows: Int?
    var shipped_bytes: Int?
    var source_hash_bytes: Int?
    var target_hash_bytes: Int?

    var counters: Counters {
        var counters = Counters()
        counters.read = read
        counters.inserted = inserted
        counters.updated = updated
        counters.unchanged = unchanged
        counters.skipped = skipped
        counters.quarantined = quarantined
        counters.batches = batches
        counters.retries = retries
        counters.shippedRows = shipped_rows ?? 0
        counters.shippedBytes = shipped_bytes ?? 0
        counters.sourceHashBytes = source_hash_bytes ?? 0
        counters.targetHashBytes = target_hash_bytes ?? 0
        return counters
    }
}
