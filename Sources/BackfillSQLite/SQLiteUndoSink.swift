import BackfillCore
import GRDB

/// Takes journal entries of a SQLite target back (`backfill undo RUN`): each row it is given is one
/// entry (`SQLiteJournalSource`), and in one `BEGIN IMMEDIATE` transaction per batch, entry by
/// entry, newest first, it
///
/// - puts back an updated row's before-image,
/// - deletes a row the run inserted,
/// - inserts again a row the run deleted,
///
/// each only where the target row still holds exactly what the run left (its hash is the entry's
/// `backfill_after`; an inserted-back row only where the key is free). A row changed since is a
/// **conflict**: left alone and counted as skipped. An entry already taken back (a batch redone
/// after a crash) counts as unchanged. The undo journals its own changes under its own run, so it
/// can be undone in turn. Counters as `PostgresUndoSink`'s: rows put back or deleted count as
/// updated, rows inserted again as inserted.
struct SQLiteUndoSink: Sink {
    let database: DatabaseQueue
    let journal: SQLiteJournalSQL
    /// The undo run's own tag, once it has one.
    let tag: String?
    let location: String
    /// Where each batch's counts go once it is done.
    let tally: UndoTally

    func describe() async throws -> TableDescription {
        TableDescription(columns: [ColumnDescription(name: "backfill_seq", declaredType: "INTEGER", notNull: true)], uniqueKeys: [["backfill_seq"]])
    }

    func forRun(_ run: RunRecord) -> any Sink {
        SQLiteUndoSink(database: database, journal: journal, tag: run.journalTag, location: location, tally: tally)
    }

    func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        let seqs = rows.compactMap { row -> Int64? in
            if case .integer(let negated)? = row.first { return -negated }
            return nil
        }
        guard !seqs.isEmpty else { return WriteOutcome() }
        guard let tag else { throw BackfillError(.writeFailed, "an undo outside a run", location: location) }
        let statements = SQLiteUndoStatements(journal: journal)
        do {
            let counts: UndoTally.Counts
            if dryRun {
                counts = try await database.read { db in try statements.takeBack(seqs, db: db, tag: nil) }
            } else {
                counts = try await database.writeWithoutTransaction { db in
                    var counts = UndoTally.Counts()
                    try db.inTransaction(.immediate) {
                        counts = try statements.takeBack(seqs, db: db, tag: tag)
                        return .commit
                    }
                    return counts
                }
            }
            tally.add(counts)
            return counts.outcome
        } catch {
            throw SQLiteErrors.map(error, "taking back journal entries", location: location)
        }
    }
}

/// The statements of `SQLiteUndoSink`. Every value moves inside SQLite, from the journal's row
/// to the target's and back, by the entry's sequence number (`?`): nothing passes through Swift,
/// so a value comes back exactly as it was stored, whatever its storage class or bytes.
struct SQLiteUndoStatements: Sendable {
    let journal: SQLiteJournalSQL
    private let entry: String
    private let restore: String
    private let delete: String
    private let reinsert: String
    /// Journal the target row of an entry, whole, as updated (`u`) or deleted (`d`) by the undo.
    private let recordUpdated: String
    private let recordDeleted: String
    private let recordAfter: String
    private let recordInserted: String

    init(journal: SQLiteJournalSQL) {
        self.journal = journal
        let target = journal.quotedTable
        let entries = journal.quotedJournal
        // The row with the entry's key, found through the target's key index.
        let keyOfEntry = "\(journal.keyTuple(nil)) = (SELECT \(journal.list("e", journal.key)) FROM \(entries) e WHERE e.backfill_seq = ?)"
        entry = """
            SELECT e.backfill_op, e.backfill_after, \(journal.rowHash("e")),
              (SELECT \(journal.rowHash("t")) FROM \(target) t WHERE \(journal.keysEqual("t", "e")))
            FROM \(entries) e WHERE e.backfill_seq = ?
            """
        let nonKey = journal.nonKeyColumns
        restore = nonKey.isEmpty
            ? ""
            : "UPDATE \(target) SET (\(journal.list(nil, nonKey))) = (SELECT \(journal.list("e", nonKey)) FROM \(entries) e WHERE e.backfill_seq = ?) WHERE \(keyOfEntry)"
        delete = "DELETE FROM \(target) WHERE \(keyOfEntry)"
        reinsert = "INSERT INTO \(target) (\(journal.list())) SELECT \(journal.list()) FROM \(entries) WHERE backfill_seq = ?"
        let rowOfEntry = "FROM \(entries) e JOIN \(target) t ON \(journal.keysEqual("t", "e")) WHERE e.backfill_seq = ?"
        let recordBefore = { (op: String) in
            "INSERT INTO \(entries) (backfill_run, backfill_op, \(journal.list())) SELECT ?, '\(op)', \(journal.list("t")) \(rowOfEntry)"
        }
        recordUpdated = recordBefore("u")
        recordDeleted = recordBefore("d")
        recordAfter = "UPDATE \(entries) SET backfill_after = (SELECT \(journal.rowHash("t")) \(rowOfEntry)) WHERE backfill_seq = ?"
        recordInserted = """
            INSERT INTO \(entries) (backfill_run, backfill_op, backfill_after, \(journal.list(nil, journal.key)))
            SELECT ?, 'i', \(journal.rowHash("t")), \(journal.list("t", journal.key)) \(rowOfEntry)
            """
    }

    /// Takes back the entries `seqs`, in that order; with the undo's `tag`, writing (and
    /// journaling under it) what it changes; without, only counting.
    func takeBack(_ seqs: [Int64], db: Database, tag: String?) throws -> UndoTally.Counts {
        var outcome = UndoTally.Counts()
        for seq in seqs {
            guard let row = try Row.fetchOne(db.cachedStatement(sql: entry), arguments: [seq]) else { continue }
            let op: String = row[0]
            let after: Int64? = row[1]
            let before: Int64? = row[2]
            // The hash of the row with the entry's key now; `nil`: no such row.
            let now: Int64? = row[3]
            let exists = now != nil
            switch op {
            case "u" where exists && now == after:
                if let tag {
                    try db.cachedStatement(sql: recordUpdated).execute(arguments: [tag, seq])
                    let logged = db.lastInsertedRowID
                    if !restore.isEmpty { try db.cachedStatement(sql: restore).execute(arguments: [seq, seq]) }
                    try db.cachedStatement(sql: recordAfter).execute(arguments: [seq, logged])
                }
                outcome.restored += 1
            case "i" where exists && now == after:
                if let tag {
                    try db.cachedStatement(sql: recordDeleted).execute(arguments: [tag, seq])
                    try db.cachedStatement(sql: delete).execute(arguments: [seq])
                }
                outcome.deleted += 1
            case "d" where !exists:
                if let tag {
                    try db.cachedStatement(sql: reinsert).execute(arguments: [seq])
                    try db.cachedStatement(sql: recordInserted).execute(arguments: [tag, seq])
                }
                outcome.reinserted += 1
            case "i" where !exists, "u" where exists && now == before, "d" where exists && now == before:
                outcome.alreadyUndone += 1
            default:
                outcome.conflicts += 1
            }
        }
        return outcome
    }
}
