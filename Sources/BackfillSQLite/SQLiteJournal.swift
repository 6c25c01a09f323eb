import BackfillCore
import GRDB

/// The journal of a SQLite target table (`SQLiteJournalSQL`), read for `backfill journal`,
/// `report` and `undo`.
public struct SQLiteJournal: RunJournal {
    let database: DatabaseQueue
    let table: String
    let key: [String]
    let location: String

    /// Opens the target database `path`; `table` is the target table the journaled runs wrote,
    /// `key` its job's key.
    /// - Throws: `BackfillError` `.invalidInput` when the file is missing or not a database.
    public init(path: String, table: String, key: [String]) throws {
        database = try SQLiteDatabase.open(path: path, readOnly: false)
        self.table = table
        self.key = key
        location = "\(path) table \(table)"
    }

    private var quotedJournal: String { Identifier.quoted(SQLiteJournalSQL.journalName(of: table)) }

    /// The journal's statements, from the target's columns; `nil` when the table keeps no journal.
    private func statements() async throws -> SQLiteJournalSQL? {
        let (table, key, location) = (self.table, self.key, self.location)
        return try await reading("reading the target's schema") { db -> SQLiteJournalSQL? in
            guard try db.tableExists(SQLiteJournalSQL.journalName(of: table)) else { return nil }
            return try SQLiteJournalSQL.reading(db, table: table, key: key, location: location)
        }
    }

    public func undoEndpoints(of run: RunRecord) async throws -> UndoEndpoints {
        guard let journal = try await statements() else {
            throw BackfillError(.invalidInput, "table \(table) keeps no journal: no run of it was journaled", location: location)
        }
        let source = SQLiteJournalSource(database: database, journal: journal, tag: run.journalTag, location: location)
        let entries = try await source.plan(workers: 1).first?.estimatedRows ?? 0
        let tally = UndoTally()
        return UndoEndpoints(
            source: source, sink: SQLiteUndoSink(database: database, journal: journal, tag: nil, location: location, tally: tally),
            entries: entries, tally: tally)
    }

    public func summary(of run: RunRecord) async throws -> JournalSummary {
        let (table, quotedJournal, tag) = (self.table, self.quotedJournal, run.journalTag)
        return try await reading("reading the journal") { db in
            guard try db.tableExists(SQLiteJournalSQL.journalName(of: table)) else { return JournalSummary() }
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT backfill_op, count(*) FROM \(quotedJournal) WHERE backfill_run = ? GROUP BY 1", arguments: [tag])
            {
                counts[row[0]] = row[1]
            }
            // Integers and reals as their 8 bytes, text and blobs as theirs.
            let sizes = try db.columns(in: SQLiteJournalSQL.journalName(of: table)).map { column in
                let name = Identifier.quoted(column.name)
                return "(CASE typeof(\(name)) WHEN 'null' THEN 0 WHEN 'integer' THEN 8 WHEN 'real' THEN 8 ELSE length(CAST(\(name) AS BLOB)) END)"
            }
            let bytes = try Int64.fetchOne(
                db, sql: "SELECT coalesce(sum(\(sizes.joined(separator: " + "))), 0) FROM \(quotedJournal) WHERE backfill_run = ?",
                arguments: [tag]) ?? 0
            return JournalSummary(counts: counts, bytes: bytes)
        }
    }

    public func entries(of run: RunRecord, limit: Int) async throws -> [JournalEntry] {
        try await listed("SELECT * FROM \(quotedJournal) WHERE backfill_run = ?", run: run, limit: limit)
    }

    public func unrestored(of run: RunRecord, limit: Int) async throws -> [JournalEntry] {
        guard let journal = try await statements() else { return [] }
        let keys = journal.list(nil, key)
        let firstKey = Identifier.quoted(key[0])
        // A key's first entry holds its row as it was before the run.
        return try await listed(
            """
            SELECT e.* FROM (
              SELECT *, row_number() OVER (PARTITION BY \(keys) ORDER BY backfill_seq) AS backfill_nth
              FROM \(quotedJournal) WHERE backfill_run = ?) e
            LEFT JOIN \(journal.quotedTable) t ON \(journal.keysEqual("t", "e"))
            WHERE e.backfill_nth = 1 AND (
              (e.backfill_op = 'i' AND t.\(firstKey) IS NOT NULL)
              OR (e.backfill_op IN ('u', 'd') AND (t.\(firstKey) IS NULL OR \(journal.rowHash("t")) <> \(journal.rowHash("e")))))
            """, run: run, limit: limit)
    }

    /// Up to `limit` of the entries `select` finds (over the journal's rows, the run's tag bound
    /// first), oldest first: sequence, operation, when, and the key's columns as text.
    private func listed(_ select: String, run: RunRecord, limit: Int) async throws -> [JournalEntry] {
        let (table, key, tag) = (self.table, self.key, run.journalTag)
        let keys = key.map { "CAST(j.\(Identifier.quoted($0)) AS TEXT)" }.joined(separator: ", ")
        return try await reading("reading the journal") { db in
            guard try db.tableExists(SQLiteJournalSQL.journalName(of: table)) else { return [] }
            let rows = try Row.fetchAll(
                db, sql: "SELECT j.backfill_seq, j.backfill_op, j.backfill_at, \(keys) FROM (\(select)) j ORDER BY j.backfill_seq LIMIT ?",
                arguments: [tag, limit])
            return rows.map { row in
                JournalEntry(seq: row[0], op: row[1], at: row[2], key: (3..<(3 + key.count)).map { row[$0] as String? })
            }
        }
    }

    private func reading<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await database.read(body)
        } catch {
            throw SQLiteErrors.map(error, what, location: location)
        }
    }
}
