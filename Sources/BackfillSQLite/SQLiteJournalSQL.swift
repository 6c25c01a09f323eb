import BackfillCore
import GRDB

/// The journal of a SQLite target table: the before-image of every row a journaled run changed,
/// in the table `"backfill_journal_<hash of the table's name>"` of the target's database — one per
/// target table, with the target's columns (untyped, so each value is kept exactly as SQLite
/// stored it) and five of its own:
///
/// - `backfill_seq`: the order of the entries; `backfill_at`: when each was written (UTC);
/// - `backfill_run`: the run's tag (`RunRecord.journalTag`);
/// - `backfill_op`: `i` (the run inserted the row: only its key is kept), `u` (the run updated it:
///   the whole row as it was), `d` (the run deleted it: the whole row);
/// - `backfill_after`: `backfill_row_hash` of the row as the run left it, so that an undo can tell
///   whether the row still holds exactly that.
///
/// Entries are written in the transaction that writes their rows, so an entry exists exactly when
/// its write committed.
public struct SQLiteJournalSQL: Sendable {
    /// The target table, as the spec names it.
    let table: String
    /// Every column of the target table, in its order.
    let columns: [String]
    /// The job's key columns.
    let key: [String]

    /// - Throws: `BackfillError` `.invalidInput` when a column has a name the journal uses itself.
    init(table: String, columns: [String], key: [String], location: String) throws {
        try JournalColumns.check(columns, location: location)
        self.table = table
        self.columns = columns
        self.key = key
    }

    /// The journal of the table `table` of `db`, whose columns it reads.
    static func reading(_ db: Database, table: String, key: [String], location: String) throws -> SQLiteJournalSQL {
        try SQLiteJournalSQL(table: table, columns: db.columns(in: table).map(\.name), key: key, location: location)
    }


    static func journalName(of table: String) -> String { "backfill_journal_" + Fingerprint.hex(of: table).prefix(16) }

    var quotedJournal: String { Identifier.quoted(Self.journalName(of: table)) }
    var quotedTable: String { Identifier.quoted(table) }

    /// `t."a", t."b", …`: every column of the table, behind `alias`.
    func list(_ alias: String? = nil, _ names: [String]? = nil) -> String {
        (names ?? columns).map { (alias.map { $0 + "." } ?? "") + Identifier.quoted($0) }.joined(separator: ", ")
    }

    /// `backfill_row_hash` of the whole row `alias` — of groups of at most 100 columns, hashed
    /// together, for a table wider than a SQL function's arguments may be (127 in older SQLite).
    func rowHash(_ alias: String) -> String {
        guard columns.count > Self.hashGroup else { return "backfill_row_hash(\(list(alias)))" }
        let groups = stride(from: 0, to: columns.count, by: Self.hashGroup).map { start in
            "backfill_row_hash(\(list(alias, Array(columns[start..<min(start + Self.hashGroup, columns.count)]))))"
        }
        return "backfill_row_hash(\(groups.joined(separator: ", ")))"
    }

    private static let hashGroup = 100

    /// `"k"` or `("k1", "k2")` behind `alias`.
    func keyTuple(_ alias: String?) -> String {
        key.count == 1 ? list(alias, key) : "(\(list(alias, key)))"
    }

    /// `t."k" = ?` for every key column: the row with the key bound in order.
    func keyMatch(_ alias: String) -> String {
        key.map { "\(alias).\(Identifier.quoted($0)) = ?" }.joined(separator: " AND ")
    }

    /// `a."k" = b."k"` for every key column.
    func keysEqual(_ a: String, _ b: String) -> String {
        key.map { "\(a).\(Identifier.quoted($0)) = \(b).\(Identifier.quoted($0))" }.joined(separator: " AND ")
    }

    var nonKeyColumns: [String] {
        let keys = Set(key.map { $0.lowercased() })
        return columns.filter { !keys.contains($0.lowercased()) }
    }

    /// The columns to add to an existing journal created before the target gained them.
    func missingColumns(_ db: Database) throws -> [String] {
        let present = Set(try db.columns(in: Self.journalName(of: table)).map { $0.name.lowercased() })
        return columns.filter { !present.contains($0.lowercased()) }.map {
            "ALTER TABLE \(quotedJournal) ADD COLUMN \(Identifier.quoted($0))"
        }
    }

    /// Creates the journal and its index if missing.
    var create: [String] {
        let untyped = columns.map(Identifier.quoted).joined(separator: ", ")
        let index = Identifier.quoted(Self.journalName(of: table) + "_run")
        return [
            """
            CREATE TABLE IF NOT EXISTS \(quotedJournal) (
              backfill_seq INTEGER PRIMARY KEY AUTOINCREMENT, backfill_run TEXT NOT NULL, backfill_op TEXT NOT NULL,
              backfill_after INTEGER, backfill_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), \(untyped))
            """,
            "CREATE INDEX IF NOT EXISTS \(index) ON \(quotedJournal) (backfill_run, backfill_seq)",
        ]
    }

    /// Creates the journal if missing, adds the columns the target gained since it was created,
    /// and deletes the runs older than `keep` seconds.
    func prepare(_ db: Database, keep: Double) throws {
        for statement in create { try db.execute(sql: statement) }
        for statement in try missingColumns(db) { try db.execute(sql: statement) }
        try db.execute(sql: prune(keep: keep))
    }

    /// Deletes the entries of every run whose last entry is older than `keep` seconds.
    func prune(keep: Double) -> String {
        """
        DELETE FROM \(quotedJournal) WHERE backfill_run IN (
          SELECT backfill_run FROM \(quotedJournal) GROUP BY backfill_run
          HAVING max(backfill_at) < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-\(Int(keep.rounded())) seconds'))
        """
    }

    // MARK: One row at a time (`SQLiteSink`): the tag is the first bind, the key the rest.

    /// Journals the row with the bound key, whole, as operation `op` (`u` before an update, `d`
    /// before a delete); writes nothing when there is no such row.
    func recordBefore(_ op: String) -> String {
        "INSERT INTO \(quotedJournal) (backfill_run, backfill_op, \(list())) SELECT ?, '\(op)', \(list("t")) FROM \(quotedTable) t WHERE \(keyMatch("t"))"
    }

    /// Sets entry `?`'s `backfill_after` to the hash of the row with the bound key (after its update).
    var recordAfter: String {
        "UPDATE \(quotedJournal) SET backfill_after = (SELECT \(rowHash("t")) FROM \(quotedTable) t WHERE \(keyMatch("t"))) WHERE backfill_seq = ?"
    }

    /// Journals the row with the bound key as inserted: its key and its hash.
    var recordInserted: String {
        let keys = list(nil, key)
        return "INSERT INTO \(quotedJournal) (backfill_run, backfill_op, backfill_after, \(keys)) SELECT ?, 'i', \(rowHash("t")), \(list("t", key)) FROM \(quotedTable) t WHERE \(keyMatch("t"))"
    }
}

/// Writes a run's journal entries one row at a time, in the transaction of the writes they describe.
struct SQLiteJournalRecorder: Sendable {
    let sql: SQLiteJournalSQL
    /// The run's tag.
    let tag: String

    /// Journals the row with `key`, whole, before it is updated (`u`) or deleted (`d`).
    /// - Returns: the entry's sequence number.
    /// - Returns: the entry's sequence number; `nil` when no row has `key`.
    func before(_ op: String, key: [Value], db: Database) throws -> Int64? {
        try db.cachedStatement(sql: sql.recordBefore(op)).execute(arguments: StatementArguments(values: [.text(tag)] + key))
        return db.changesCount == 1 ? db.lastInsertedRowID : nil
    }

    /// Completes `entry` with the hash of the row with `key` as its update left it.
    func after(entry: Int64, key: [Value], db: Database) throws {
        try db.cachedStatement(sql: sql.recordAfter).execute(arguments: StatementArguments(values: key + [.integer(entry)]))
    }

    /// Journals the row with `key`, just inserted.
    func inserted(key: [Value], db: Database) throws {
        try db.cachedStatement(sql: sql.recordInserted).execute(arguments: StatementArguments(values: [.text(tag)] + key))
    }
}
