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
/// `backfill_after`; an inserted-back row only where the key is free), and deletes the rows of a
/// `COPY`ed batch (`c`) still as the run wrote them (`PostgresJournalSQL`). A row changed since is a
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
    /// Where each batch's counts go once it is done.
    let tally: UndoTally

    public func describe() async throws -> TableDescription {
        TableDescription(columns: [ColumnDescription(name: "backfill_seq", declaredType: "bigint", notNull: true)], uniqueKeys: [["backfill_seq"]])
    }

    public func forRun(_ run: RunRecord) -> any Sink {
        PostgresUndoSink(database: database, journal: journal, tag: run.journalTag, tally: tally)
    }

    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        // A `c` entry comes as one row per row it stands for (`PostgresJournalSource`).
        let seqs = rows.compactMap { row -> Int64? in
            if case .integer(let negated)? = row.first { return -negated }
            return nil
        }
        guard !seqs.isEmpty else { return WriteOutcome() }
        guard let tag else { throw BackfillError(.writeFailed, "an undo outside a run", location: database.dsn.description) }
        let statements = PostgresUndoSQL(journal: journal)
        let logger = database.logger
        let given = seqs.count
        let counts = try await database.transaction("taking back journal entries", commit: !dryRun) { connection in
            let entries = Self.binds(Array(Set(seqs)).sorted())
            try await connection.query(PostgresQuery(unsafeSQL: statements.lock, binds: entries), logger: logger)
            var tagged = PostgresBindings()
            tagged.append(tag)
            tagged.append(Array(Set(seqs)).sorted())
            let already = try await Self.count(statements.alreadyTakenBack, entries, on: connection, logger: logger)
                + Self.count(statements.copiedTakenBack, tagged, on: connection, logger: logger)
            let restored = try await Self.count(statements.restoreUpdated, tagged, on: connection, logger: logger)
            let deleted = try await Self.count(statements.deleteInserted, tagged, on: connection, logger: logger)
                + Self.count(statements.deleteCopied, tagged, on: connection, logger: logger)
            let reinserted = try await Self.count(statements.reinsertDeleted, tagged, on: connection, logger: logger)
            return UndoTally.Counts(
                restored: restored, deleted: deleted, reinserted: reinserted, alreadyUndone: already,
                conflicts: max(0, given - restored - deleted - reinserted - already))
        }
        tally.add(counts)
        return counts.outcome
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

    /// The keys of the `c` entries (`$2`), one row each: `backfill_seq`, `backfill_xmin` and the key.
    private var copiedKeys: String {
        let column = Identifier.quoted(journal.key[0])
        return """
            SELECT e.backfill_seq, e.backfill_run, e.backfill_xmin, \(journal.copiedKeys(of: "e")) AS \(column)
            FROM \(entries) e WHERE e.backfill_seq = ANY($2) AND e.backfill_op = 'c'
            """
    }

    /// Rows of the `c` entries (`$2`) whose key is free: taken back already (or deleted since), as
    /// for an `i` entry. `$1` is the undo's tag, unused.
    var copiedTakenBack: String {
        guard journal.journalsCopiesByBatch else { return "SELECT '0'" }
        return """
            SELECT count(*)::text FROM (\(copiedKeys)) e
            WHERE $1::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM \(target) t WHERE \(match("t", "e")))
            """
    }

    /// Deletes the rows of `c` entries (`$2`) that still hold what the run wrote, journaling them
    /// (`$1`): those still of the `COPY`'s transaction, and those a later `u` entry of the same run
    /// was put back to (the row as the `COPY` wrote it, in this undo's transaction now).
    var deleteCopied: String {
        guard journal.journalsCopiesByBatch else { return "SELECT '0'" }
        let later = """
            SELECT \(journal.rowHash("u")) FROM \(entries) u
            WHERE u.backfill_run = e.backfill_run AND u.backfill_op = 'u' AND u.backfill_seq > e.backfill_seq AND \(match("u", "t"))
            ORDER BY u.backfill_seq LIMIT 1
            """
        return """
            WITH e AS MATERIALIZED (\(copiedKeys)),
            done AS (
              DELETE FROM \(target) t USING e
              WHERE \(match("t", "e")) AND (t.xmin = e.backfill_xmin OR \(journal.rowHash("t")) = (\(later)))
              RETURNING t.*),
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
