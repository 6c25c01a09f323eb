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

    func describe() async throws -> TableDescription {
        TableDescription(columns: [ColumnDescription(name: "backfill_seq", declaredType: "INTEGER", notNull: true)], uniqueKeys: [["backfill_seq"]])
    }

    func forRun(_ run: RunRecord) -> any Sink {
        SQLiteUndoSink(database: database, journal: journal, tag: run.journalTag, location: location)
    }

    func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        let seqs = rows.compactMap { row -> Int64? in
            if case .integer(let negated)? = row.first { return -negated }
            return nil
        }
        guard !seqs.isEmpty else { return WriteOutcome() }
        guard let tag else { throw BackfillError(.writeFailed, "an undo outside a run", location: location) }
        let statements = SQLiteUndoStatements(journal: journal)
        let recorder = SQLiteJournalRecorder(sql: journal, tag: tag)
        do {
            if dryRun {
                return try await database.read { db in try statements.takeBack(seqs, db: db, journal: nil) }
            }
            return try await database.writeWithoutTransaction { db in
                var outcome = WriteOutcome()
                try db.inTransaction(.immediate) {
                    outcome = try statements.takeBack(seqs, db: db, journal: recorder)
                    return .commit
                }
                return outcome
            }
        } catch {
            throw SQLiteErrors.map(error, "taking back journal entries", location: location)
        }
    }
}

/// The statements of `SQLiteUndoSink`.
struct SQLiteUndoStatements {
    let journal: SQLiteJournalSQL
    private let entry: String
    private let current: String
    private let restore: String
    private let delete: String
    private let reinsert: String

    init(journal: SQLiteJournalSQL) {
        self.journal = journal
        let target = journal.quotedTable
        entry = """
            SELECT backfill_op, backfill_after, \(journal.rowHash("e")), \(journal.list("e", journal.key)), \(journal.list("e"))
            FROM \(journal.quotedJournal) e WHERE backfill_seq = ?
            """
        current = "SELECT \(journal.rowHash("t")) FROM \(target) t WHERE \(journal.keyMatch("t"))"
        let assignments = journal.nonKeyColumns.map { "\(Identifier.quoted($0)) = ?" }.joined(separator: ", ")
        restore = assignments.isEmpty ? "" : "UPDATE \(target) SET \(assignments) WHERE \(journal.keyMatch(target))"
        delete = "DELETE FROM \(target) WHERE \(journal.keyMatch(target))"
        let placeholders = Array(repeating: "?", count: journal.columns.count).joined(separator: ", ")
        reinsert = "INSERT INTO \(target) (\(journal.list())) VALUES (\(placeholders))"
    }

    /// Takes back the entries `seqs`, in that order; with `journal`, writing (and journaling)
    /// what it changes, without, only counting.
    func takeBack(_ seqs: [Int64], db: Database, journal recorder: SQLiteJournalRecorder?) throws -> WriteOutcome {
        var outcome = WriteOutcome()
        let keyCount = journal.key.count
        let nonKey = Set(journal.nonKeyColumns.map { $0.lowercased() })
        for seq in seqs {
            guard let row = try Row.fetchOne(db.cachedStatement(sql: entry), arguments: [seq]) else { continue }
            let values = row.values
            let op: String = row[0]
            let after: Int64? = row[1]
            let before: Int64? = row[2]
            let key = Array(values[3..<(3 + keyCount)])
            let image = Array(values[(3 + keyCount)...])
            let held = try Row.fetchOne(db.cachedStatement(sql: current), arguments: StatementArguments(values: key))
            let exists = held != nil
            let now: Int64? = held?[0]
            switch op {
            case "u" where exists && now == after:
                if let recorder {
                    let logged = try recorder.before("u", key: key, db: db)
                    if !restore.isEmpty {
                        let assigned = zip(journal.columns, image).filter { nonKey.contains($0.0.lowercased()) }.map(\.1)
                        try db.cachedStatement(sql: restore).execute(arguments: StatementArguments(values: assigned + key))
                    }
                    try recorder.after(entry: logged, key: key, db: db)
                }
                outcome.updated += 1
            case "i" where exists && now == after:
                if let recorder {
                    _ = try recorder.before("d", key: key, db: db)
                    try db.cachedStatement(sql: delete).execute(arguments: StatementArguments(values: key))
                }
                outcome.updated += 1
            case "d" where !exists:
                if let recorder {
                    try db.cachedStatement(sql: reinsert).execute(arguments: StatementArguments(values: image))
                    try recorder.inserted(key: key, db: db)
                }
                outcome.inserted += 1
            case "i" where !exists, "u" where exists && now == before, "d" where exists && now == before:
                outcome.unchanged += 1
            default:
                outcome.skipped += 1
            }
        }
        return outcome
    }
}
