import BackfillCore
import Foundation
import GRDB

/// The default state store: a SQLite database in WAL mode (`.backfill/state.db`).
///
/// WAL lets `backfill status` and `pause` from another process read and write while a run
/// checkpoints. Every method is one transaction.
public struct SQLiteStateStore: StateStore {
    public let path: String
    private let pool: DatabasePool

    /// Opens the state store, creating the file and its folder when `create` is `true`.
    /// - Throws: `BackfillError` `.invalidInput` when it does not exist and `create` is `false`,
    ///   `.stateStore` when it cannot be opened or migrated.
    public init(path: String, create: Bool) throws {
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists && !create {
            throw BackfillError(.invalidInput, "no state store here (no run has been started with it); pass --state PATH", location: path)
        }
        do {
            if create {
                let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.label = "backfill.state"
            // A checkpoint lost to a power cut only makes the next run redo that batch, which
            // idempotent writes make harmless; the target keeps SQLite's full durability.
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            pool = try Self.open(path, configuration: configuration)
        } catch let error as DatabaseError where exists && [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
            // Someone else's file, or a damaged one: it is left exactly as it is.
            throw BackfillError(
                .invalidInput,
                "not a usable backfill state store (SQLite: \(error.message ?? "\(error.resultCode)")); it was not changed: move it away, or pass --state another path",
                location: path, underlying: error)
        } catch let error as DatabaseError {
            throw BackfillError(
                .stateStore, "cannot open the state store (SQLite: \(error.message ?? "\(error.resultCode)"))", location: path, underlying: error)
        } catch {
            throw BackfillError(.stateStore, "cannot open the state store (\(error.localizedDescription))", location: path, underlying: error)
        }
    }

    /// Opens and migrates the store. Two processes creating the same new store at once can collide
    /// (one sets up WAL or applies the schema while the other does): the loser tries again, and
    /// then finds the store set up.
    private static func open(_ path: String, configuration: Configuration) throws -> DatabasePool {
        var attempt = 0
        while true {
            do {
                let pool = try DatabasePool(path: path, configuration: configuration)
                try StateSchema.migrator.migrate(pool)
                return pool
            } catch let error as DatabaseError where attempt < 5 && ![.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }

    fileprivate func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw mapped(error)
        }
    }

    fileprivate func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw mapped(error)
        }
    }

    private func mapped(_ error: any Error) -> BackfillError {
        // A row this version cannot read already names its table and column.
        if let error = error as? BackfillError { return error }
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            return BackfillError(.stateStore, kind: .transient, "the state store is busy", location: path, underlying: error)
        }
        return BackfillError(.stateStore, "the state store failed: \((error as? DatabaseError)?.message ?? "\(type(of: error))")", location: path, underlying: error)
    }

    public func specText(runID: Int64) async throws -> String? {
        try await read { db in try String?.fetchOne(db, sql: "SELECT spec FROM runs WHERE id = ?", arguments: [runID]) ?? nil }
    }

    public func createRun(_ new: NewRun) async throws -> RunRecord {
        let chunks = try new.chunks.map { ($0, try StateRows.json($0.range)) }
        return try await write { db in try Self.insert(new, chunks: chunks, db: db) }
    }

    /// Looks for the run and creates it in one (IMMEDIATE) transaction: two processes starting the
    /// same job at once create one run between them, and the second finds it.
    public func createRun(_ new: NewRun, unlessFound lookup: ExistingRun) async throws -> (run: RunRecord, created: Bool) {
        let chunks = try new.chunks.map { ($0, try StateRows.json($0.range)) }
        let statuses = lookup == .resumable ? "AND status IN ('planned', 'running', 'paused')" : ""
        return try await write { db in
            if let existing = try Row.fetchOne(
                db, sql: "SELECT * FROM runs WHERE job = ? \(statuses) ORDER BY id DESC LIMIT 1", arguments: [new.job])
            {
                return (try StateRows.run(existing), false)
            }
            return (try Self.insert(new, chunks: chunks, db: db), true)
        }
    }

    private static func insert(_ new: NewRun, chunks: [(ChunkPlan, String)], db: Database) throws -> RunRecord {
        let estimated = new.chunks.reduce(0) { $0 + $1.estimatedRows }
        let now = Date().timeIntervalSince1970
        try db.execute(
            sql: """
                INSERT INTO runs (job, fingerprint, status, created_at, updated_at, chunks_total, estimated_rows, owner, spec)
                VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)
                """,
            arguments: [new.job, new.specFingerprint, now, now, chunks.count, estimated, new.owner, new.spec])
        let runID = db.lastInsertedRowID
        for (plan, range) in chunks {
            try db.execute(
                sql: "INSERT INTO chunks (run_id, idx, range, estimated_rows, status) VALUES (?, ?, ?, ?, 'pending')",
                arguments: [runID, plan.index, range, plan.estimatedRows])
        }
        return try StateRows.run(try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [runID])!)
    }

    public func latestResumableRun(job: String) async throws -> RunRecord? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM runs WHERE job = ? AND status IN ('planned', 'running', 'paused') ORDER BY id DESC LIMIT 1",
                arguments: [job]
            ).map { try StateRows.run($0) }
        }
    }

    public func newestRun(job: String) async throws -> RunRecord? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM runs WHERE job = ? ORDER BY status IN ('planned', 'running', 'paused') DESC, id DESC LIMIT 1",
                arguments: [job]
            ).map { try StateRows.run($0) }
        }
    }

    public func run(id: Int64) async throws -> RunRecord? {
        // Every worker reads its run before every batch: a cached statement, prepared once per connection.
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM runs WHERE id = ?"), arguments: [id]).map { try StateRows.run($0) }
        }
    }

    /// Every worker reads these before every batch: two columns by a cached statement (knobs are
    /// rarely set, so usually nothing is decoded).
    public func directives(runID: Int64) async throws -> RunDirectives? {
        try await read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT status, knobs FROM runs WHERE id = ?"), arguments: [runID]) else {
                return nil
            }
            let status: String = row[0]
            let knobs: String? = row[1]
            return RunDirectives(
                status: try StateJSON.status(status, RunStatus.self, table: "runs"), knobs: knobs.flatMap { try? StateJSON.decode(RunKnobs.self, $0) } ?? RunKnobs())
        }
    }

    public func runs(limit: Int) async throws -> [RunRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id DESC LIMIT ?", arguments: [limit]).map { try StateRows.run($0) }
        }
    }

    public func chunks(runID: Int64) async throws -> [ChunkRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM chunks WHERE run_id = ? ORDER BY idx", arguments: [runID]).map(StateRows.chunk)
        }
    }

    public func takeOver(runID: Int64, owner: String, replacing previous: String?) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE runs SET status = 'running', reason = NULL, owner = ?, updated_at = ?
                    WHERE id = ? AND owner IS ? AND status IN ('planned', 'running')
                    """,
                arguments: [owner, Date().timeIntervalSince1970, runID, previous])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "UPDATE chunks SET status = 'pending' WHERE run_id = ? AND status = 'running'", arguments: [runID])
            return true
        }
    }

    public func claimChunk(runID: Int64) async throws -> ChunkRecord? {
        try await write { db in
            try Row.fetchOne(
                db,
                sql: """
                    UPDATE chunks SET status = 'running'
                    WHERE id = (SELECT id FROM chunks WHERE run_id = ? AND status = 'pending' ORDER BY idx LIMIT 1)
                    RETURNING *
                    """,
                arguments: [runID]
            ).map(StateRows.chunk)
        }
    }

    public func releaseChunk(id: Int64) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE chunks SET status = 'pending' WHERE id = ? AND status = 'running'", arguments: [id])
        }
    }

    public func checkpoint(_ checkpoint: Checkpoint) async throws {
        let cursor = try checkpoint.cursor.map(StateRows.json)
        let quarantine = try checkpoint.quarantine.map { item in
            (item, try item.key.map(StateRows.json), try item.row.map(StateRows.json))
        }
        let delta = checkpoint.delta
        let increments = StateSchema.counterColumns.map { "\($0) = \($0) + ?" }.joined(separator: ", ")
        let values = delta.columnValues
        // One checkpoint per batch: cached statements, prepared once.
        try await write { db in
            try db.cachedStatement(
                sql: "UPDATE chunks SET cursor = ?, status = CASE WHEN ? THEN 'done' ELSE status END, \(increments) WHERE id = ?"
            ).execute(
                arguments: StatementArguments(
                    [cursor, checkpoint.chunkDone] as [(any DatabaseValueConvertible)?] + values.map { $0 } + [checkpoint.chunkID]))
            try db.cachedStatement(
                sql: "UPDATE runs SET chunks_done = chunks_done + ?, active_seconds = active_seconds + ?, batch_size = coalesce(?, batch_size), updated_at = ?, \(increments) WHERE id = ?"
            ).execute(
                arguments: StatementArguments(
                    [checkpoint.chunkDone ? 1 : 0, checkpoint.activeSeconds, checkpoint.batchSize, Date().timeIntervalSince1970] as [(any DatabaseValueConvertible)?]
                        + values.map { $0 } + [checkpoint.runID]))
            try Self.addWaits(checkpoint.waits, runID: checkpoint.runID, db: db)
            for (item, key, row) in quarantine {
                try db.execute(
                    sql: "INSERT INTO quarantine (run_id, chunk_idx, key, line, error_type, reason, row, raw, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [item.runID, item.chunkIndex, key, item.line, item.errorType, item.reason, row, item.raw, item.at.timeIntervalSince1970])
            }
        }
    }

    public func setStatus(runID: Int64, _ status: RunStatus, reason: String?) async throws {
        try await write { db in
            let now = Date().timeIntervalSince1970
            try db.execute(
                sql: "UPDATE runs SET status = ?, reason = ?, updated_at = ?, finished_at = CASE WHEN ? THEN ? ELSE finished_at END WHERE id = ?",
                arguments: [status.rawValue, reason, now, !status.isResumable, now, runID])
        }
    }

    public func transition(runID: Int64, from: Set<RunStatus>, to status: RunStatus, reason: String?) async throws -> Bool {
        let allowed = from.map(\.rawValue)
        return try await write { db in
            let now = Date().timeIntervalSince1970
            let placeholders = Array(repeating: "?", count: allowed.count).joined(separator: ", ")
            try db.execute(
                sql: """
                    UPDATE runs SET status = ?, reason = ?, updated_at = ?, finished_at = CASE WHEN ? THEN ? ELSE finished_at END
                    WHERE id = ? AND status IN (\(placeholders))
                    """,
                arguments: StatementArguments(
                    [status.rawValue, reason, now, !status.isResumable, now, runID] as [(any DatabaseValueConvertible)?]
                        + allowed.map { $0 as (any DatabaseValueConvertible)? }))
            return db.changesCount > 0
        }
    }

    public func setWaitingReason(runID: Int64, _ reason: String?) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE runs SET reason = ?, updated_at = ? WHERE id = ? AND status = 'running'",
                arguments: [reason, Date().timeIntervalSince1970, runID])
        }
    }

    public func addTime(runID: Int64, activeSeconds: Double, waits: WaitTimes) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE runs SET active_seconds = active_seconds + ? WHERE id = ?", arguments: [activeSeconds, runID])
            try Self.addWaits(waits, runID: runID, db: db)
        }
    }

    /// Adds waiting time to a run, by reason (inside the caller's transaction).
    private static func addWaits(_ waits: WaitTimes, runID: Int64, db: Database) throws {
        guard !waits.isEmpty else { return }
        let stored = try String.fetchOne(db.cachedStatement(sql: "SELECT waits FROM runs WHERE id = ?"), arguments: [runID])
        let sum = (try StateRows.decode(WaitTimes.self, stored) ?? WaitTimes()) + waits
        try db.cachedStatement(sql: "UPDATE runs SET waits = ? WHERE id = ?").execute(arguments: [try StateRows.json(sum), runID])
    }

    public func recordSample(runID: Int64) async throws {
        let columns = (StateSchema.counterColumns + ["active_seconds", "batch_size", "chunks_done"]).joined(separator: ", ")
        try await write { db in
            try db.execute(
                sql: "INSERT INTO samples (run_id, at, \(columns)) SELECT id, ?, \(columns) FROM runs WHERE id = ?",
                arguments: [Date().timeIntervalSince1970, runID])
        }
    }

    public func samples(runID: Int64, limit: Int) async throws -> [RunSample] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM (SELECT * FROM samples WHERE run_id = ? ORDER BY at DESC LIMIT ?) ORDER BY at",
                arguments: [runID, limit]
            ).map(StateRows.sample)
        }
    }

    public func recordVerification(runID: Int64, _ summary: VerificationSummary) async throws {
        let json = try StateRows.json(summary)
        try await write { db in
            try db.execute(sql: "UPDATE runs SET last_verification = ? WHERE id = ?", arguments: [json, runID])
        }
    }

    public func setKnobs(runID: Int64, _ knobs: RunKnobs) async throws {
        let json = try StateRows.json(knobs)
        try await write { db in
            try db.execute(sql: "UPDATE runs SET knobs = ?, updated_at = ? WHERE id = ?", arguments: [json, Date().timeIntervalSince1970, runID])
        }
    }

    public func recordEvent(runID: Int64, kind: String, message: String) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO events (run_id, at, kind, message) VALUES (?, ?, ?, ?)",
                arguments: [runID, Date().timeIntervalSince1970, kind, message])
        }
    }

    public func events(runID: Int64) async throws -> [RunEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events WHERE run_id = ? ORDER BY id", arguments: [runID]).map { row in
                RunEvent(runID: row["run_id"], at: Date(timeIntervalSince1970: row["at"]), kind: row["kind"], message: row["message"])
            }
        }
    }

    public func unresolvedQuarantine(runID: Int64, afterID: Int64, limit: Int) async throws -> [QuarantineRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM quarantine WHERE run_id = ? AND resolved_at IS NULL AND id > ? ORDER BY id LIMIT ?",
                arguments: [runID, afterID, limit]
            ).map(StateRows.quarantine)
        }
    }

    public func resolveQuarantine(ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await write { db in
            let now = Date().timeIntervalSince1970
            for id in ids {
                try db.execute(sql: "UPDATE quarantine SET resolved_at = ? WHERE id = ?", arguments: [now, id])
            }
        }
    }

    public func quarantineCounts(runID: Int64) async throws -> [String: Int] {
        try await read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT error_type, count(*) AS n FROM quarantine WHERE run_id = ? AND resolved_at IS NULL GROUP BY error_type", arguments: [runID])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["error_type"] as String, $0["n"] as Int) })
        }
    }

    public func quarantine(runID: Int64, limit: Int) async throws -> [QuarantineRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM quarantine WHERE run_id = ? ORDER BY id LIMIT ?", arguments: [runID, limit])
                .map(StateRows.quarantine)
        }
    }
}

extension SQLiteStateStore {
    public func ledger(job: String) -> any DeliveryLedger { SQLiteLedger(store: self, job: job) }

    fileprivate func delivered(job: String, among ids: [String]) async throws -> Set<String> {
        try await read { db in
            var found: Set<String> = []
            for start in stride(from: 0, to: ids.count, by: 500) {
                let part = Array(ids[start..<min(start + 500, ids.count)])
                let marks = part.map { _ in "?" }.joined(separator: ",")
                let rows = try String.fetchAll(
                    db, sql: "SELECT event_id FROM ledger WHERE job = ? AND event_id IN (\(marks))",
                    arguments: StatementArguments([job] + part))
                found.formUnion(rows)
            }
            return found
        }
    }

    fileprivate func deliveredIDs(job: String, after id: String?, limit: Int) async throws -> [String] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT event_id FROM ledger WHERE job = ? AND (? IS NULL OR event_id > ?) ORDER BY event_id LIMIT ?",
                arguments: [job, id, id, limit])
        }
    }

    fileprivate func recordDelivered(job: String, _ ids: [String]) async throws {
        let now = Date().timeIntervalSince1970
        try await write { db in
            let statement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO ledger (job, event_id, at) VALUES (?, ?, ?)")
            for id in ids { try statement.execute(arguments: [job, id, now]) }
        }
    }
}

private struct SQLiteLedger: DeliveryLedger {
    let store: SQLiteStateStore
    let job: String

    func delivered(among ids: [String]) async throws -> Set<String> { try await store.delivered(job: job, among: ids) }

    func record(_ ids: [String]) async throws { try await store.recordDelivered(job: job, ids) }

    func ids(after id: String?, limit: Int) async throws -> [String] { try await store.deliveredIDs(job: job, after: id, limit: limit) }
}
