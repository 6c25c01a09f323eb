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
        let distinct = Array(Set(seqs)).sorted()
        let counts = try await database.transaction("taking back journal entries", commit: !dryRun) { connection in
            let entries = Self.binds(distinct)
            for lock in statements.locks {
                try await connection.checkedQuery(PostgresQuery(unsafeSQL: lock, binds: entries), logger: logger)
            }
            var tagged = PostgresBindings()
            tagged.append(tag)
            tagged.append(distinct)
            let already = try await Self.count(statements.alreadyTakenBack, entries, on: connection, logger: logger)
            let restored = try await Self.count(statements.restoreUpdated, tagged, on: connection, logger: logger)
            let deleted = try await Self.count(statements.deleteInserted, tagged, on: connection, logger: logger)
                + Self.deleteCopied(statements, tagged, on: connection, logger: logger)
            let reinserted = try await Self.count(statements.reinsertDeleted, tagged, on: connection, logger: logger)
            let done = restored + deleted + reinserted
            return UndoTally.Counts(
                restored: restored, deleted: deleted, reinserted: reinserted, alreadyUndone: already, conflicts: given - done - already)
        }
        tally.add(counts)
        return counts.outcome
    }

    /// Deletes the rows of the `c` entries (`tagged`: the undo's tag and the entries) still as the
    /// run wrote them, in one statement; when the table refuses that (a foreign key still pointing
    /// at one of the rows), row by row, each in a savepoint, so that only the refused rows stay —
    /// conflicts, named after the undo — as a batch of `i` entries would be split down to them.
    /// - Returns: rows deleted.
    private static func deleteCopied(
        _ statements: PostgresUndoSQL, _ tagged: PostgresBindings, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        guard let all = statements.deleteCopied(key: nil), let one = statements.deleteCopied(key: "$3") else { return 0 }
        try await connection.checkedQuery("SAVEPOINT backfill_copied", logger: logger)
        do {
            let deleted = try await count(all, tagged, on: connection, logger: logger)
            try await connection.checkedQuery("RELEASE SAVEPOINT backfill_copied", logger: logger)
            return deleted
        } catch let error as PSQLError where error.serverInfo?[.sqlState]?.hasPrefix("23") == true {
            try await connection.checkedQuery("ROLLBACK TO SAVEPOINT backfill_copied", logger: logger)
        }
        let keys = try await PostgresDatabase.textRows(
            PostgresQuery(unsafeSQL: statements.copiedStillAsWritten, binds: tagged), on: connection, logger: logger
        ).compactMap { $0.first ?? nil }
        var deleted = 0
        for key in keys {
            var binds = tagged
            binds.append(key)
            try await connection.checkedQuery("SAVEPOINT backfill_copied_row", logger: logger)
            do {
                deleted += try await count(one, binds, on: connection, logger: logger)
                try await connection.checkedQuery("RELEASE SAVEPOINT backfill_copied_row", logger: logger)
            } catch let error as PSQLError where error.serverInfo?[.sqlState]?.hasPrefix("23") == true {
                try await connection.checkedQuery("ROLLBACK TO SAVEPOINT backfill_copied_row", logger: logger)
                logger.warning("the row could not be deleted; left as it is", metadata: ["backfill.key": "\(key)", "backfill.sqlstate": "\(error.serverInfo?[.sqlState] ?? "")"])
            }
        }
        return deleted
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
    private func list(_ alias: String? = nil) -> String {
        journal.columns.map { (alias.map { $0 + "." } ?? "") + Identifier.quoted($0) }.joined(separator: ", ")
    }

    /// Locks the target rows of the entries (`$1`), so that what is checked is what is changed.
    var locks: [String] {
        let entryRows = "SELECT 1 FROM \(target) t JOIN \(entries) e ON \(match("t", "e")) WHERE e.backfill_seq = ANY($1) AND e.backfill_op <> 'c' ORDER BY t.\(firstKey) FOR UPDATE OF t"
        guard let rows = copied("$1") else { return [entryRows] }
        return [entryRows, "SELECT 1 FROM \(target) t JOIN (\(rows)) e ON \(match("t", "e")) ORDER BY t.\(firstKey) FOR UPDATE OF t"]
    }

    /// Entries (`$1`) whose row already is as before the run, and rows of `c` entries whose key is
    /// free (as for an `i` entry).
    var alreadyTakenBack: String {
        let entryRows = """
            SELECT count(*) FROM \(entries) e LEFT JOIN \(target) t ON \(match("t", "e"))
            WHERE e.backfill_seq = ANY($1) AND (
              (e.backfill_op IN ('u', 'd') AND t.\(firstKey) IS NOT NULL AND \(journal.rowHash("t")) = \(journal.rowHash("e")))
              OR (e.backfill_op = 'i' AND t.\(firstKey) IS NULL))
            """
        guard let rows = copied("$1") else { return "SELECT (\(entryRows))::text" }
        let copiedRows = "SELECT count(*) FROM (\(rows)) e WHERE NOT EXISTS (SELECT 1 FROM \(target) t WHERE \(match("t", "e")))"
        return "SELECT ((\(entryRows)) + (\(copiedRows)))::text"
    }

    /// Puts back the before-images of updated rows that still hold what the run wrote (`$2`),
    /// journaling what they held (`$1`).
    var restoreUpdated: String {
        let pairs = journal.key.enumerated().map { "o.\(Identifier.quoted($1)) = d.backfill_k\($0)" }.joined(separator: " AND ")
        let assignments = journal.valueColumns.map { "\(Identifier.quoted($0)) = e.\(Identifier.quoted($0))" }.joined(separator: ", ")
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

    /// The rows of the `c` entries (bind `seqs`) as `i` entries: `backfill_seq`, the key, `backfill_after`.
    private func copied(_ seqs: String) -> String? {
        journal.journalsCopiesByBatch && journal.hasCopiedEntries ? journal.copiedRows(seqs: seqs) : nil
    }

    /// The keys, as text, of the rows of `c` entries (`$2`) still as the run wrote them.
    var copiedStillAsWritten: String {
        guard let rows = copied("$2") else { return "SELECT NULL WHERE false" }
        return "SELECT t.\(firstKey)::text FROM (\(rows)) e JOIN \(target) t ON \(match("t", "e")) WHERE \(journal.rowHash("t")) = e.backfill_after"
    }

    /// Deletes the rows of `c` entries (`$2`) that still hold what the run wrote — only the one
    /// whose key is bind `key` (text) when given — journaling them (`$1`); `nil` when the journal
    /// keeps no `c` entries.
    func deleteCopied(key: String?) -> String? {
        guard let rows = copied("$2") else { return nil }
        let only = key.map { " WHERE r.\(firstKey) = CAST(\($0) AS \(journal.copiedKeyType))" } ?? ""
        return """
            WITH e AS MATERIALIZED (SELECT * FROM (\(rows)) r\(only)),
            done AS (
              DELETE FROM \(target) t USING e WHERE \(match("t", "e")) AND \(journal.rowHash("t")) = e.backfill_after RETURNING t.*),
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
