import BackfillCore
import Foundation
import Logging
import PostgresNIO

/// The state store in PostgreSQL (`state: postgres://…`): the same runs, chunks, counters,
/// quarantine and event log as the SQLite store, in the schema `backfill`, so that several
/// processes — and the people watching them — can share one store.
///
/// Every change is one transaction; a checkpoint moves the chunk's cursor, both counters and the
/// quarantined rows together.
///
/// Chunks are **leased**: a claim (`FOR UPDATE SKIP LOCKED`) takes a pending chunk, or one whose
/// lease expired by the server's clock, bumps its generation and leases it to `owner` for
/// `lease`; `heartbeat` renews the leases, and a checkpoint applies only at the generation its
/// batch began with, so a process that stalled past its lease can never move a chunk.
public struct PostgresStateStore: StateStore {
    public let database: PostgresDatabase
    /// This process (`host:pid`), as it appears in `lease_owner`.
    public let owner: String
    /// How long a claim or heartbeat keeps a chunk this process's.
    public let lease: Duration
    private let retry = PostgresStateRetry()

    /// How many calls of this store were made again after a transient failure (a server restart,
    /// a dropped connection).
    public var repeatedCalls: Int { retry.repeated.value }

    public var leasesChunks: Bool { true }

    public init(database: PostgresDatabase, owner: String = RunStarter.currentProcess, lease: Duration = .seconds(15)) {
        self.database = database
        self.owner = owner
        self.lease = lease
    }

    private var leaseSeconds: Double { lease.inSeconds }

    /// Opens the store in the database `dsn` names, creating its tables when `create`.
    /// - Parameter lease: how long this process's claims last without a heartbeat.
    /// - Throws: `BackfillError` `.invalidInput` when the server cannot be reached, or when the store
    ///   does not exist and `create` is false.
    /// - Parameter logger: postgres-nio's own log (see `PostgresDatabase.connect`).
    public static func open(
        _ dsn: String, create: Bool, lease: Duration = .seconds(15), logger: Logger = PostgresDatabase.quietLogger
    ) async throws -> PostgresStateStore {
        // State statements are short: a tight statement timeout also bounds the client's deadline,
        // which is what a pooled connection a server restart left dead costs before the pool is
        // rebuilt (connect timeout + statement timeout + 5 s).
        let database = try await PostgresDatabase.connect(
            dsn, maxConnections: 4, timeouts: PostgresTimeouts(lock: 5, statement: 10, idleInTransaction: PostgresTimeouts.idleLimit(lease: lease)),
            conflictRetries: 5, logger: logger)
        let store = PostgresStateStore(database: database, lease: lease)
        if create {
            try await store.migrate()
        } else {
            let exists = try await database.textRows("SELECT (to_regclass('backfill.runs') IS NOT NULL)::text", "opening the state store")
            guard exists.first?[0] == "true" else {
                throw BackfillError(.invalidInput, "no backfill state store in this database (run a job with this state: first)", location: database.dsn.description)
            }
        }
        return store
    }

    private func migrate() async throws {
        try await database.transaction("creating the state store") { connection in
            let logger = database.logger
            // One creator at a time: concurrent `CREATE … IF NOT EXISTS` can still collide.
            try await connection.checkedQuery("SELECT pg_advisory_xact_lock(hashtext('backfill state store'))", logger: logger)
            for statement in PostgresStateSchema.statements {
                try await connection.checkedQuery(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    private var now: Double { Date().timeIntervalSince1970 }

    /// Rows of `query` as the JSON text of each (`SELECT to_jsonb(t)::text …`), for a typed row to decode.
    private func objects(_ query: PostgresQuery, _ what: String) async throws -> [String] {
        try await rows(query, what).compactMap { $0.first ?? nil }
    }

    /// `query`'s rows, the call repeated while the server is away (see `PostgresStateRetry`): for
    /// reads and for changes that may be made twice.
    private func rows(_ query: PostgresQuery, _ what: String) async throws -> [[String?]] {
        try await retry.run { try await database.textRows(query, what) }
    }

    public func createRun(_ new: NewRun) async throws -> RunRecord {
        let ranges = try new.chunks.map { try PostgresStateRows.json($0.range) }
        let estimated = new.chunks.reduce(0) { $0 + $1.estimatedRows }
        let chunks = new.chunks
        let now = self.now
        let logger = database.logger
        let text = try await database.transaction("creating a run") { connection -> String? in
            let inserted = try await PostgresDatabase.textRows(
                """
                INSERT INTO backfill.runs (job, fingerprint, status, created_at, updated_at, chunks_total, estimated_rows, owner, spec)
                VALUES (\(new.job), \(new.specFingerprint), 'running', \(now), \(now), \(chunks.count), \(estimated), \(new.owner), \(new.spec))
                RETURNING id::text
                """, on: connection, logger: logger)
            guard let id = inserted.first?[0].flatMap({ Int64($0) }) else { return nil }
            for (plan, range) in zip(chunks, ranges) {
                try await connection.checkedQuery(
                    "INSERT INTO backfill.chunks (run_id, idx, range, estimated_rows, status) VALUES (\(id), \(plan.index), \(range), \(plan.estimatedRows), 'pending')",
                    logger: logger)
            }
            return try await PostgresDatabase.textRows("SELECT to_jsonb(r)::text FROM backfill.runs r WHERE id = \(id)", on: connection, logger: logger)
                .first?[0] ?? nil
        }
        guard let text else {
            throw BackfillError(.stateStore, "the new run could not be read back", location: database.dsn.description)
        }
        return try RunRow.record(text)
    }

    /// Under a session advisory lock per job, so that workers starting at once create one run.
    public func createRun(_ new: NewRun, unlessFound lookup: ExistingRun) async throws -> (run: RunRecord, created: Bool) {
        let logger = database.logger
        let key = "backfill run of \(new.job)"
        return try await database.withConnection("starting a run") { connection in
            try await connection.checkedQuery("SELECT pg_advisory_lock(hashtext(\(key)))", logger: logger)
            do {
                let result: (RunRecord, Bool)
                if let existing = try await self.find(lookup, job: new.job) {
                    result = (existing, false)
                } else {
                    result = (try await self.createRun(new), true)
                }
                try await connection.checkedQuery("SELECT pg_advisory_unlock(hashtext(\(key)))", logger: logger)
                return result
            } catch {
                _ = try? await connection.checkedQuery("SELECT pg_advisory_unlock(hashtext(\(key)))", logger: logger)
                throw error
            }
        }
    }

    public func specText(runID: Int64) async throws -> String? {
        try await rows("SELECT spec FROM backfill.runs WHERE id = \(runID)", "reading a run's spec").first?[0] ?? nil
    }

    public func latestResumableRun(job: String) async throws -> RunRecord? {
        try await objects(
            "SELECT to_jsonb(r)::text FROM backfill.runs r WHERE job = \(job) AND status IN ('planned', 'running', 'paused') ORDER BY id DESC LIMIT 1",
            "reading runs"
        ).first.map(RunRow.record)
    }

    public func newestRun(job: String) async throws -> RunRecord? {
        try await objects(
            "SELECT to_jsonb(r)::text FROM backfill.runs r WHERE job = \(job) ORDER BY status IN ('planned', 'running', 'paused') DESC, id DESC LIMIT 1",
            "reading runs"
        ).first.map(RunRow.record)
    }

    public func run(id: Int64) async throws -> RunRecord? {
        try await objects("SELECT to_jsonb(r)::text FROM backfill.runs r WHERE id = \(id)", "reading a run").first.map(RunRow.record)
    }

    /// Read by every worker before every batch: two columns.
    public func directives(runID: Int64) async throws -> RunDirectives? {
        guard let row = try await rows("SELECT status, knobs FROM backfill.runs WHERE id = \(runID)", "reading a run").first,
            let status = row[0]
        else { return nil }
        return RunDirectives(
            status: try StateJSON.status(status, RunStatus.self, table: "runs"),
            knobs: (try? PostgresStateRows.decode(RunKnobs.self, row[1] ?? nil)) ?? RunKnobs())
    }

    public func runs(limit: Int) async throws -> [RunRecord] {
        try await objects("SELECT to_jsonb(r)::text FROM backfill.runs r ORDER BY id DESC LIMIT \(limit)", "reading runs").map(RunRow.record)
    }

    public func chunks(runID: Int64) async throws -> [ChunkRecord] {
        try await objects("SELECT to_jsonb(c)::text FROM backfill.chunks c WHERE run_id = \(runID) ORDER BY idx", "reading chunks")
            .map(ChunkRow.record)
    }

    /// Marks the run `running` for `owner` and frees the chunks of processes that are gone: the
    /// ones whose owner was a process on this host that no longer runs (a `kill -9` before this
    /// rerun), so they need not wait for their lease to expire. Chunks of live processes, here or
    /// elsewhere, stay theirs until their leases expire.
    public func takeOver(runID: Int64, owner: String, replacing previous: String?) async throws -> Bool {
        let now = self.now
        let logger = database.logger
        let owners = try await rows(
            "SELECT DISTINCT lease_owner FROM backfill.chunks WHERE run_id = \(runID) AND status = 'running'", "reading leases")
        let gone = owners.compactMap { $0.first ?? nil }.filter { !RunStarter.isAlive(owner: $0) }
        return try await database.transaction("taking over a run") { connection in
            let taken = try await PostgresDatabase.textRows(
                """
                UPDATE backfill.runs SET status = 'running', reason = NULL, owner = \(owner), updated_at = \(now)
                WHERE id = \(runID) AND owner IS NOT DISTINCT FROM \(previous) AND status IN ('planned', 'running')
                RETURNING id::text
                """, on: connection, logger: logger)
            guard !taken.isEmpty else { return false }
            try await connection.checkedQuery(
                """
                UPDATE backfill.chunks SET status = 'pending', generation = generation + 1, lease_owner = NULL, lease_until = NULL
                WHERE run_id = \(runID) AND status = 'running' AND (lease_owner IS NULL OR lease_owner = ANY(\(gone)))
                """, logger: logger)
            return true
        }
    }

    /// The server's clock in Unix seconds: leases are compared on one clock, whatever the workers' clocks say.
    private static let serverNow = "extract(epoch FROM clock_timestamp())"

    /// A claim commits on the server before its answer travels back: when the connection drops in
    /// between, the chunk is leased to this process but no worker works it (and the heartbeat would
    /// keep it so). Each claim is tagged, and before it is repeated the chunk carrying its tag is
    /// looked for.
    public func claimChunk(runID: Int64) async throws -> ChunkRecord? {
        let tag = UUID().uuidString
        return try await retry.run {
            try await claimChunk(runID: runID, tag: tag)
        } beforeRetry: { () async throws -> ChunkRecord?? in
            // Found: that is the claim's answer; not found: claim again (`.none`, not `.some(nil)`).
            guard let found = try await chunk(claimedBy: tag, runID: runID) else { return .none }
            return .some(found)
        }
    }

    /// Claims a chunk and tags the claim with `tag`.
    func claimChunk(runID: Int64, tag: String) async throws -> ChunkRecord? {
        try await database.textRows(
            PostgresQuery(unsafeSQL: """
                UPDATE backfill.chunks c SET status = 'running', generation = generation + 1, lease_owner = $1,
                  lease_until = \(Self.serverNow) + $2, claim = $4
                WHERE id = (
                  SELECT id FROM backfill.chunks
                  WHERE run_id = $3 AND (status = 'pending' OR (status = 'running' AND coalesce(lease_until, 0) < \(Self.serverNow)))
                  ORDER BY idx LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING to_jsonb(c)::text
                """, binds: try Self.binds(owner, leaseSeconds, runID, tag)),
            "claiming a chunk"
        ).first.flatMap { $0.first ?? nil }.map(ChunkRow.record)
    }

    /// The chunk the claim tagged `tag` leased to this process, if it did and the chunk is still
    /// this process's (a claim whose answer was lost).
    func chunk(claimedBy tag: String, runID: Int64) async throws -> ChunkRecord? {
        try await database.textRows(
            PostgresQuery(unsafeSQL: """
                SELECT to_jsonb(c)::text FROM backfill.chunks c
                WHERE run_id = $1 AND claim = $2 AND status = 'running' AND lease_owner = $3
                """, binds: try Self.binds(runID, tag, owner)),
            "looking for a claimed chunk"
        ).first.flatMap { $0.first ?? nil }.map(ChunkRow.record)
    }

    public func heartbeat(runID: Int64) async throws {
        _ = try await rows(
            PostgresQuery(unsafeSQL: """
                UPDATE backfill.chunks SET lease_until = \(Self.serverNow) + $1
                WHERE run_id = $2 AND status = 'running' AND lease_owner = $3
                """, binds: try Self.binds(leaseSeconds, runID, owner)),
            "renewing leases")
    }

    /// Returns the chunk to `pending` only while this process still holds it.
    public func releaseChunk(id: Int64) async throws {
        _ = try await rows(
            """
            UPDATE backfill.chunks SET status = 'pending', lease_owner = NULL, lease_until = NULL
            WHERE id = \(id) AND status = 'running' AND lease_owner = \(owner)
            """, "releasing a chunk")
    }

    public func requestSplit(runID: Int64, minimumRows: Int) async throws -> Bool {
        let marked = try await rows(
            """
            UPDATE backfill.chunks c SET split_requested = true
            WHERE id = (
              SELECT id FROM backfill.chunks WHERE run_id = \(runID) AND status = 'running' AND estimated_rows - read >= \(minimumRows)
              ORDER BY estimated_rows - read DESC LIMIT 1)
            RETURNING id
            """, "asking for a split")
        return !marked.isEmpty
    }

    public func splitRequested(chunkID: Int64) async throws -> Bool {
        try await rows("SELECT split_requested::text FROM backfill.chunks WHERE id = \(chunkID)", "looking for split requests")
            .first?[0] == "true"
    }

    /// Without a point the holder found too little left: the chunk's estimate drops to what it has
    /// read, so that it is not asked again.
    public func split(chunkID: Int64, generation: Int, at point: SplitPoint?) async throws -> ChunkRecord {
        let logger = database.logger
        let location = database.dsn.description
        let text = try await database.transaction("splitting a chunk") { connection -> String? in
            let found = try await PostgresDatabase.textRows(
                "SELECT run_id::text, range, generation::text, coalesce(lease_owner, '') FROM backfill.chunks WHERE id = \(chunkID) FOR UPDATE",
                on: connection, logger: logger)
            guard let row = found.first, let runID = row[0].flatMap({ Int64($0) }) else {
                throw BackfillError(.stateStore, "chunk \(chunkID) disappeared from the state store", location: location)
            }
            guard row[2] == String(generation) else {
                throw BackfillError(
                    .leaseLost, "split refused: chunk \(chunkID) is at generation \(row[2] ?? "?"), not \(generation) — process \(row[3] ?? "?") holds it now",
                    location: location)
            }
            if let point, let range = try PostgresStateRows.decode(KeyRange.self, row[1]) {
                // One split per run at a time: the new chunk's index is the run's next one.
                try await connection.checkedQuery("SELECT 1 FROM backfill.runs WHERE id = \(runID) FOR NO KEY UPDATE", logger: logger)
                let kept = try PostgresStateRows.json(KeyRange(lower: range.lower, upper: point.key))
                let given = try PostgresStateRows.json(KeyRange(lower: point.key, upper: range.upper))
                try await connection.checkedQuery(
                    """
                    UPDATE backfill.chunks SET range = \(kept), estimated_rows = read + \(point.rowsBefore), split_requested = false,
                      generation = generation + 1
                    WHERE id = \(chunkID)
                    """, logger: logger)
                try await connection.checkedQuery(
                    """
                    INSERT INTO backfill.chunks (run_id, idx, range, estimated_rows, status)
                    SELECT \(runID), max(idx) + 1, \(given), \(point.rowsAfter), 'pending' FROM backfill.chunks WHERE run_id = \(runID)
                    """, logger: logger)
                try await connection.checkedQuery("UPDATE backfill.runs SET chunks_total = chunks_total + 1 WHERE id = \(runID)", logger: logger)
            } else {
                try await connection.checkedQuery(
                    "UPDATE backfill.chunks SET split_requested = false, estimated_rows = read WHERE id = \(chunkID)", logger: logger)
            }
            return try await PostgresDatabase.textRows("SELECT to_jsonb(c)::text FROM backfill.chunks c WHERE id = \(chunkID)", on: connection, logger: logger)
                .first?[0] ?? nil
        }
        guard let text else {
            throw BackfillError(.stateStore, "chunk \(chunkID) could not be read back", location: location)
        }
        return try ChunkRow.record(text)
    }

    public func checkpoint(_ checkpoint: Checkpoint) async throws {
        try await database.transaction("checkpointing") { connection in
            _ = try await self.apply(checkpoint, on: connection)
        }
    }

    /// Applies `checkpoint` inside the caller's transaction on `connection` (which may be a
    /// target's, when the target lives in this database): the chunk's cursor and counters, the
    /// run's counters, and the quarantined rows.
    ///
    /// With a fence, the chunk moves only from the fence's generation, and records its token.
    /// - Returns: `false` when this very checkpoint had already been applied (a retry after a
    ///   commit whose reply was lost); nothing was changed.
    /// - Throws: `BackfillError` `.stateStore` when another checkpoint moved the chunk first.
    public func apply(_ checkpoint: Checkpoint, on connection: PostgresConnection) async throws -> Bool {
        let cursor = try checkpoint.cursor.map(PostgresStateRows.json)
        let quarantine = try checkpoint.quarantine.map { item in
            (item, try item.key.map(PostgresStateRows.json), try item.row.map(PostgresStateRows.json))
        }
        let delta = checkpoint.delta
        let increments = zip(Counters.columnNames, delta.columnValues).map { "\($0) = \($0) + \($1)" }.joined(separator: ", ")
        let logger = database.logger
        let fence = checkpoint.fence
        let moved = try await PostgresDatabase.textRows(
            PostgresQuery(
                unsafeSQL: """
                    UPDATE backfill.chunks SET cursor = $1, status = CASE WHEN $2 THEN 'done' ELSE status END, \(increments),
                      generation = generation + 1, last_checkpoint = $4, lease_until = \(Self.serverNow) + $6
                    WHERE id = $3 AND ($5::bigint IS NULL OR generation = $5::bigint) RETURNING 1
                    """,
                binds: try Self.binds(cursor, checkpoint.chunkDone, checkpoint.chunkID, fence?.token, fence?.generation, leaseSeconds)),
            on: connection, logger: logger)
        if moved.isEmpty, let fence {
            let stored = try await PostgresDatabase.textRows(
                "SELECT last_checkpoint, generation::text, coalesce(lease_owner, '') FROM backfill.chunks WHERE id = \(checkpoint.chunkID)",
                on: connection, logger: logger)
            if stored.first?[0] == fence.token { return false }
            let holder = stored.first?[2].flatMap { $0 } ?? ""
            throw BackfillError(
                .leaseLost,
                "checkpoint refused: chunk \(checkpoint.chunkID) is at generation \(stored.first?[1].flatMap { $0 } ?? "?"), not \(fence.generation) — its lease expired and \(holder.isEmpty ? "it was released" : "process \(holder) took it over")",
                location: database.dsn.description)
        }
        try await connection.checkedQuery(
            PostgresQuery(
                unsafeSQL: """
                    UPDATE backfill.runs SET chunks_done = chunks_done + $1, active_seconds = active_seconds + $2,
                      batch_size = coalesce($3, batch_size), updated_at = $4, \(increments) WHERE id = $5
                    """,
                binds: try Self.binds(checkpoint.chunkDone ? 1 : 0, checkpoint.activeSeconds, checkpoint.batchSize, now, checkpoint.runID)),
            logger: logger)
        try await Self.addWaits(checkpoint.waits, runID: checkpoint.runID, on: connection, logger: logger)
        for (item, key, row) in quarantine {
            try await connection.checkedQuery(
                """
                INSERT INTO backfill.quarantine (run_id, chunk_idx, key, line, error_type, reason, row, raw, at)
                VALUES (\(item.runID), \(item.chunkIndex), \(key), \(item.line), \(item.errorType), \(item.reason), \(row), \(item.raw), \(item.at.timeIntervalSince1970))
                """, logger: logger)
        }
        return true
    }

    private static func binds(_ values: (any PostgresDynamicTypeEncodable)?...) throws -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values {
            if let value { binds.append(value) } else { binds.appendNull() }
        }
        return binds
    }

    /// Adds waiting time to a run, by reason, inside the caller's transaction.
    private static func addWaits(_ waits: WaitTimes, runID: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        guard !waits.isEmpty else { return }
        let stored = try await PostgresDatabase.textRows("SELECT waits FROM backfill.runs WHERE id = \(runID) FOR NO KEY UPDATE", on: connection, logger: logger)
        let sum = (try PostgresStateRows.decode(WaitTimes.self, stored.first?[0] ?? nil) ?? WaitTimes()) + waits
        try await connection.checkedQuery("UPDATE backfill.runs SET waits = \(try PostgresStateRows.json(sum)) WHERE id = \(runID)", logger: logger)
    }

    public func setStatus(runID: Int64, _ status: RunStatus, reason: String?) async throws {
        let now = self.now
        _ = try await rows(
            """
            UPDATE backfill.runs SET status = \(status.rawValue), reason = \(reason), updated_at = \(now),
              finished_at = CASE WHEN \(!status.isResumable) THEN \(now) ELSE finished_at END
            WHERE id = \(runID)
            """, "changing a run's status")
    }

    public func transition(runID: Int64, from: Set<RunStatus>, to status: RunStatus, reason: String?) async throws -> Bool {
        let now = self.now
        let allowed = from.map(\.rawValue)
        let changed = try await database.textRows(
            """
            UPDATE backfill.runs SET status = \(status.rawValue), reason = \(reason), updated_at = \(now),
              finished_at = CASE WHEN \(!status.isResumable) THEN \(now) ELSE finished_at END
            WHERE id = \(runID) AND status = ANY(\(allowed))
            RETURNING id
            """, "changing a run's status")
        return !changed.isEmpty
    }

    public func setWaitingReason(runID: Int64, _ reason: String?) async throws {
        _ = try await rows(
            "UPDATE backfill.runs SET reason = \(reason), updated_at = \(now) WHERE id = \(runID) AND status = 'running'", "recording why a run waits")
    }

    public func addTime(runID: Int64, activeSeconds: Double, waits: WaitTimes) async throws {
        let logger = database.logger
        try await retry.run { try await database.transaction("recording time") { connection in
            try await connection.checkedQuery("UPDATE backfill.runs SET active_seconds = active_seconds + \(activeSeconds) WHERE id = \(runID)", logger: logger)
            try await Self.addWaits(waits, runID: runID, on: connection, logger: logger)
        } }
    }

    public func recordSample(runID: Int64) async throws {
        let columns = (Counters.columnNames + ["active_seconds", "batch_size", "chunks_done"]).joined(separator: ", ")
        _ = try await rows(
            PostgresQuery(unsafeSQL: "INSERT INTO backfill.samples (run_id, at, \(columns)) SELECT id, $1, \(columns) FROM backfill.runs WHERE id = $2",
                          binds: try Self.binds(now, runID)),
            "recording a sample")
    }

    public func samples(runID: Int64, limit: Int) async throws -> [RunSample] {
        try await objects(
            "SELECT to_jsonb(s)::text FROM (SELECT * FROM backfill.samples WHERE run_id = \(runID) ORDER BY at DESC LIMIT \(limit)) s ORDER BY at",
            "reading samples"
        ).map(SampleRow.record)
    }

    public func recordVerification(runID: Int64, _ summary: VerificationSummary) async throws {
        let json = try PostgresStateRows.json(summary)
        _ = try await rows("UPDATE backfill.runs SET last_verification = \(json) WHERE id = \(runID)", "recording a verification")
    }

    public func setKnobs(runID: Int64, _ knobs: RunKnobs) async throws {
        let json = try PostgresStateRows.json(knobs)
        _ = try await rows("UPDATE backfill.runs SET knobs = \(json), updated_at = \(now) WHERE id = \(runID)", "setting knobs")
    }

    public func recordEvent(runID: Int64, kind: String, message: String) async throws {
        _ = try await rows(
            "INSERT INTO backfill.events (run_id, at, kind, message) VALUES (\(runID), \(now), \(kind), \(message))", "recording an event")
    }

    public func events(runID: Int64) async throws -> [RunEvent] {
        try await objects("SELECT to_jsonb(e)::text FROM backfill.events e WHERE run_id = \(runID) ORDER BY id", "reading events").map(EventRow.record)
    }

    public func unresolvedQuarantine(runID: Int64, afterID: Int64, limit: Int) async throws -> [QuarantineRecord] {
        try await objects(
            "SELECT to_jsonb(q)::text FROM backfill.quarantine q WHERE run_id = \(runID) AND resolved_at IS NULL AND id > \(afterID) ORDER BY id LIMIT \(limit)",
            "reading quarantine"
        ).map(QuarantineRow.record)
    }

    public func resolveQuarantine(ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await rows("UPDATE backfill.quarantine SET resolved_at = \(now) WHERE id = ANY(\(ids))", "resolving quarantine")
    }

    public func quarantineCounts(runID: Int64) async throws -> [String: Int] {
        let counted = try await rows(
            "SELECT error_type, count(*)::text FROM backfill.quarantine WHERE run_id = \(runID) AND resolved_at IS NULL GROUP BY error_type",
            "counting quarantine")
        return PostgresDatabase.namedCounts(counted)
    }

    public func quarantine(runID: Int64, limit: Int) async throws -> [QuarantineRecord] {
        try await objects("SELECT to_jsonb(q)::text FROM backfill.quarantine q WHERE run_id = \(runID) ORDER BY id LIMIT \(limit)", "reading quarantine")
            .map(QuarantineRow.record)
    }
}

extension PostgresStateStore {
    public func ledger(job: String) -> any DeliveryLedger { PostgresLedger(database: database, job: job) }
}

private struct PostgresLedger: DeliveryLedger {
    let database: PostgresDatabase
    let job: String

    func delivered(among ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let rows = try await database.textRows(
            "SELECT event_id FROM backfill.ledger WHERE job = \(job) AND event_id = ANY(\(ids))", "reading the delivery ledger")
        return Set(rows.compactMap { $0.first ?? nil })
    }

    func record(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        _ = try await database.textRows(
            "INSERT INTO backfill.ledger (job, event_id, at) SELECT \(job), unnest(\(ids)::text[]), \(now) ON CONFLICT DO NOTHING",
            "recording deliveries")
    }
    func ids(after id: String?, limit: Int) async throws -> [String] {
        let rows = try await database.textRows(
            "SELECT event_id FROM backfill.ledger WHERE job = \(job) AND (\(id)::text IS NULL OR event_id COLLATE \"C\" > \(id)) ORDER BY event_id COLLATE \"C\" LIMIT \(limit)",
            "reading the delivery ledger")
        return rows.compactMap { $0.first ?? nil }
    }
}
