import BackfillCore
import PostgresNIO

/// Takes journal entries back (`backfill undo RUN`): each row it is given is one entry
/// (`PostgresJournalSource`), and in one transaction per batch it
///
/// - puts back an updated row's before-image,
/// - deletes a row the run inserted,
/// - inserts again a row the run deleted,
///
/// each only where the target row still holds exactly what the run left (its hash is the entry's
/// `backfill_after`; an inserted-back row only where the key is free). A row changed since is a
/// **conflict**: left alone and counted as skipped. An entry already taken back (a batch redone
/// after a crash) counts as unchanged. The undo journals its own changes under its own run, so
/// it can be undone in turn.
///
/// Counters: rows put back or inserted again count as `inserted`/`updated` as they were written,
/// rows deleted as `updated` (the undo's journal tells them apart: `u`, `d`, `i`).
public struct PostgresUndoSink: Sink {
    let database: PostgresDatabase
    let journal: PostgresJournalSQL
    /// The undo run's own tag, once it has one.
    let tag: String?

    public func describe() async throws -> TableDescription {
        TableDescription(columns: [ColumnDescription(name: "backfill_seq", declaredType: "bigint", notNull: true)], uniqueKeys: [["backfill_seq"]])
    }

    public func forRun(_ run: RunRecord) -> any Sink {
        PostgresUndoSink(database: database, journal: journal, tag: PostgresSink.journalTag(of: run))
    }

    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        let seqs = rows.compactMap { row -> Int64? in
            if case .integer(let negated)? = row.first { return -negated }
            return nil
        }
        guard !seqs.isEmpty else { return WriteOutcome() }
        guard let tag else { throw BackfillError(.writeFailed, "an undo outside a run", location: database.dsn.description) }
        let statements = PostgresUndoSQL(journal: journal)
        let logger = database.logger
        return try await database.transaction("taking back journal entries", commit: !dryRun) { connection in
            let entries = Self.binds(seqs)
            try await connection.query(PostgresQuery(unsafeSQL: statements.lock, binds: entries), logger: logger)
            let already = try await Self.count(statements.alreadyTakenBack, entries, on: connection, logger: logger)
            var tagged = PostgresBindings()
            tagged.append(tag)
            tagged.append(seqs)
            let restored = try await Self.count(statements.restoreUpdated, tagged, on: connection, logger: logger)
            let deleted = try await Self.count(statements.deleteInserted, tagged, on: connection, logger: logger)
            let reinserted = try await Self.count(statements.reinsertDeleted, tagged, on: connection, logger: logger)
            let done = restored + deleted + reinserted
            return WriteOutcome(
                inserted: reinserted, updated: restored + deleted, unchanged: already, skipped: seqs.count - done - already)
        }
    }

    private static func binds(_ seqs: [Int64]) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(seqs)
        return binds
    }

    private static func count(_ sql: String, _ binds: PostgresBindings, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await PostgresDatabase.textRows(PostgresQuery(unsafeSQL: sql, binds: binds), on: connection, logger: logger)
            .first?[0].flatMap { Int($0) } ?? 0
    }
}

/// The statements of `PostgresUndoSink`: entries are chosen by `backfill_seq = ANY($n)`; the
/// undo's own tag is `$1` where it journals.
struct PostgresUndoSQL {
    let journal: PostgresJournalSQL

    private var target: String { Identifier.quoted(journal.table) }
    private var entries: String { journal.quotedJournal }
    private func match(_ a: String, _ b: String) -> String {
        journal.key.map { "\(a).\(Identifier.quoted($0)) = \(b).\(Identifier.quoted($0))" }.joined(separator: " AND ")
    }
    private var firstKey: String { Identifier.quoted(journal.key[0]) }
    private var valueColumns: [String] {
        let keys = Set(journal.key.map { $0.lowercased() })
        return journal.columns.filter { !keys.contains($0.lowercased()) }
    }
    private func list(_ alias: String? = nil) -> String {
        journal.columns.map { (alias.map { $0 + "." } ?? "") + Identifier.quoted($0) }.joined(separator: ", ")
    }

    /// Locks the target rows of the entries (`$1`), so that what is checked is what is changed.
    var lock: String {
        "SELECT 1 FROM \(target) t JOIN \(entries) e ON \(match("t", "e")) WHERE e.backfill_seq = ANY($1) ORDER BY t.\(firstKey) FOR UPDATE OF t"
    }

    /// Entries (`$1`) whose row already is as before the run.
    var alreadyTakenBack: String {
        """
        SELECT count(*)::text FROM \(entries) e LEFT JOIN \(target) t ON \(match("t", "e"))
        WHERE e.backfill_seq = ANY($1) AND (
          (e.backfill_op IN ('u', 'd') AND t.\(firstKey) IS NOT NULL AND \(journal.rowHash("t")) = \(journal.rowHash("e")))
          OR (e.backfill_op = 'i' AND t.\(firstKey) IS NULL))
        """
    }

    /// Puts back the before-images of updated rows that still hold what the run wrote (`$2`),
    /// journaling what they held (`$1`).
    var restoreUpdated: String {
        let pairs = journal.key.enumerated().map { "o.\(Identifier.quoted($1)) = d.backfill_k\($0)" }.joined(separator: " AND ")
        let assignments = valueColumns.map { "\(Identifier.quoted($0)) = e.\(Identifier.quoted($0))" }.joined(separator: ", ")
        guard !assignments.isEmpty else { return "SELECT '0'" }
        return """
            WITH e AS MATERIALIZED (SELECT * FROM \(entries) WHERE backfill_seq = ANY($2) AND backfill_op = 'u'),
            old AS MATERIALIZED (SELECT t.* FROM \(target) t JOIN e ON \(match("t", "e")) WHERE \(journal.rowHash("t")) = e.backfill_after),
            done AS (
              UPDATE \(target) t SET \(assignments) FROM e
              WHERE \(match("t", "e")) AND \(journal.rowHash("t")) = e.backfill_after
              RETURNING \(journal.returning)),
            logged AS (
              INSERT INTO \(entries) (backfill_run, backfill_op, backfill_after, \(list()))
              SELECT $1, 'u', d.backfill_after, \(list("o")) FROM done d JOIN old o ON \(pairs))
            SELECT count(*)::text FROM done
            """
    }

    /// Deletes rows the run inserted that still hold what it wrote (`$2`), journaling them (`$1`).
    var deleteInserted: String {
        """
        WITH e AS MATERIALIZED (SELECT * FROM \(entries) WHERE backfill_seq = ANY($2) AND backfill_op = 'i'),
        done AS (DELETE FROM \(target) t USING e WHERE \(match("t", "e")) AND \(journal.rowHash("t")) = e.backfill_after RETURNING t.*),
        logged AS (
          INSERT INTO \(entries) (backfill_run, backfill_op, backfill_after, \(list()))
          SELECT $1, 'd', NULL, \(list("d")) FROM done d)
        SELECT count(*)::text FROM done
        """
    }

    /// Inserts again rows the run deleted whose key is still free (`$2`), journaling them (`$1`).
    var reinsertDeleted: String {
        let keyList = journal.key.map(Identifier.quoted).joined(separator: ", ")
        let keyValues = journal.key.indices.map { "d.backfill_k\($0)" }.joined(separator: ", ")
        return """
            WITH e AS MATERIALIZED (SELECT * FROM \(entries) WHERE backfill_seq = ANY($2) AND backfill_op = 'd'),
            done AS (
              INSERT INTO \(target) AS t (\(list())) SELECT \(list("e")) FROM e
              WHERE NOT EXISTS (SELECT 1 FROM \(target) x WHERE \(match("x", "e")))
              RETURNING \(journal.returning)),
            logged AS (
              INSERT INTO \(entries) (backfill_run, backfill_op, backfill_after, \(keyList))
              SELECT $1, 'i', d.backfill_after, \(keyValues) FROM done d)
            SELECT count(*)::text FROM done
            """
    }
}

/// The journal source and the undo sink of a run of a PostgreSQL target, for `backfill undo`.
public enum PostgresUndo {
    /// - Parameters:
    ///   - table: the target table the run wrote; `key`: its job's key.
    ///   - undone: the run taken back.
    /// - Throws: `BackfillError` `.invalidInput` when the table keeps no journal.
    public static func endpoints(
        database: PostgresDatabase, table: String, key: [String], undone: RunRecord
    ) async throws -> (source: any Source, sink: any Sink, entries: Int) {
        let info = try await PostgresCatalog.describe(table, in: database)
        let journal = try PostgresJournalSQL(table: table, info: info, key: key, location: "\(database.dsn) table \(table)")
        guard try await exists(journal.quotedJournal, in: database) else {
            throw BackfillError(.invalidInput, "table \(table) keeps no journal: no run of it was journaled", location: database.dsn.description)
        }
        let source = PostgresJournalSource(database: database, journal: journal, tag: PostgresSink.journalTag(of: undone))
        let entries = try await source.plan(workers: 1).first?.estimatedRows ?? 0
        return (source, PostgresUndoSink(database: database, journal: journal, tag: nil), entries)
    }

    /// What `run` did, by its journal entries: rows it updated (`u`), inserted (`i`) and deleted (`d`).
    public static func summary(database: PostgresDatabase, table: String, run: RunRecord) async throws -> [String: Int] {
        let name = PostgresJournalSQL.quotedJournal(of: table)
        guard try await exists(name, in: database) else { return [:] }
        var binds = PostgresBindings()
        binds.append(PostgresSink.journalTag(of: run))
        let rows = try await database.textRows(
            PostgresQuery(unsafeSQL: "SELECT backfill_op, count(*)::text FROM \(name) WHERE backfill_run = $1 GROUP BY 1", binds: binds),
            "reading the journal")
        return PostgresDatabase.namedCounts(rows)
    }

    /// Whether the journal table `name` (quoted, with its schema) exists.
    private static func exists(_ name: String, in database: PostgresDatabase) async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(name)
        return try await database.textRows(
            PostgresQuery(unsafeSQL: "SELECT (to_regclass($1) IS NOT NULL)::text", binds: binds), "looking for the journal"
        ).first?[0] == "true"
    }

    /// Up to `limit` of `run`'s journal entries, oldest first: sequence, operation, the key's
    /// columns as text, and when each was written.
    public static func entries(
        database: PostgresDatabase, table: String, key: [String], run: RunRecord, limit: Int
    ) async throws -> [JournalEntry] {
        let name = PostgresJournalSQL.quotedJournal(of: table)
        guard try await exists(name, in: database) else { return [] }
        var binds = PostgresBindings()
        binds.append(PostgresSink.journalTag(of: run))
        let keys = key.map { "j." + Identifier.quoted($0) + "::text" }.joined(separator: ", ")
        let rows = try await database.textRows(
            PostgresQuery(unsafeSQL: """
                SELECT j.backfill_seq::text AS seq, j.backfill_op, to_char(j.backfill_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), \(keys)
                FROM \(name) j WHERE j.backfill_run = $1 ORDER BY j.backfill_seq LIMIT \(limit)
                """, binds: binds),
            "reading the journal")
        return rows.map { row in
            JournalEntry(
                seq: (row[0] ?? nil).flatMap { Int64($0) } ?? 0, op: row[1] ?? "", at: row[2] ?? "", key: Array(row.dropFirst(3)))
        }
    }
}

/// One journal entry as `backfill journal RUN` lists it.
public struct JournalEntry: Sendable, Codable, Hashable {
    public var seq: Int64
    /// `i` inserted, `u` updated, `d` deleted by the run.
    public var op: String
    public var at: String
    /// The key's columns as text (`nil` for NULL).
    public var key: [String?]
}
