import BackfillCore
import PostgresNIO

/// The journal of a PostgreSQL target table (`PostgresJournalSQL`), read for `backfill journal`,
/// `report` and `undo`.
public struct PostgresJournal: RunJournal {
    let database: PostgresDatabase
    let table: String
    let key: [String]

    /// - Parameters:
    ///   - table: the target table the journaled runs wrote; `key`: its job's key.
    public init(database: PostgresDatabase, table: String, key: [String]) {
        self.database = database
        self.table = table
        self.key = key
    }

    private var quotedJournal: String { PostgresJournalSQL.quotedJournal(of: table) }

    /// The journal's statements, from the table's columns and types.
    private func statements() async throws -> PostgresJournalSQL {
        let info = try await PostgresCatalog.describe(table, in: database)
        var journal = try PostgresJournalSQL(table: table, info: info, key: key, location: "\(database.dsn) table \(table)")
        // A journal an earlier version created, and no run wrote to since, has no `c` entries.
        var binds = PostgresBindings()
        binds.append(quotedJournal)
        let columns = try await database.textRows(
            PostgresQuery(
                unsafeSQL: "SELECT count(*)::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'backfill_hashes' AND NOT attisdropped",
                binds: binds),
            "reading the journal's columns")
        journal.hasCopiedEntries = columns.first?[0] == "1"
        return journal
    }

    public func undoEndpoints(of run: RunRecord) async throws -> UndoEndpoints {
        let journal = try await statements()
        guard try await exists() else {
            throw BackfillError(.invalidInput, "table \(table) keeps no journal: no run of it was journaled", location: database.dsn.description)
        }
        let source = PostgresJournalSource(database: database, journal: journal, tag: run.journalTag)
        let entries = try await source.plan(workers: 1).first?.estimatedRows ?? 0
        let tally = UndoTally()
        return UndoEndpoints(
            source: source, sink: PostgresUndoSink(database: database, journal: journal, tag: nil, tally: tally), entries: entries, tally: tally)
    }

    public func summary(of run: RunRecord) async throws -> JournalSummary {
        guard try await exists() else { return JournalSummary() }
        let counts = try await database.textRows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT CASE j.backfill_op WHEN 'c' THEN 'i' ELSE j.backfill_op END, sum(\(Self.rowsOfEntry))::text
                    FROM \(quotedJournal) j WHERE j.backfill_run = $1 GROUP BY 1
                    """,
                binds: Self.bind(run)),
            "reading the journal")
        let bytes = try await database.textRows(
            PostgresQuery(
                unsafeSQL: "SELECT coalesce(sum(pg_column_size(j.*)), 0)::text FROM \(quotedJournal) j WHERE j.backfill_run = $1",
                binds: Self.bind(run)),
            "measuring the journal")
        return JournalSummary(counts: PostgresDatabase.namedCounts(counts), bytes: bytes.first?[0].flatMap { Int64($0) } ?? 0)
    }

    public func entries(of run: RunRecord, limit: Int) async throws -> [JournalEntry] {
        guard try await exists() else { return [] }
        return try await listed("SELECT * FROM \(quotedJournal) WHERE backfill_run = $1", run: run, limit: limit)
    }

    public func unrestored(of run: RunRecord, limit: Int) async throws -> [JournalEntry] {
        guard try await exists() else { return [] }
        let journal = try await statements()
        let target = Identifier.quoted(table)
        let firstKey = Identifier.quoted(key[0])
        let keys = key.map(Identifier.quoted).joined(separator: ", ")
        let match = key.map { "t.\(Identifier.quoted($0)) = e.\(Identifier.quoted($0))" }.joined(separator: " AND ")
        // A key's first entry holds its row as it was before the run; each key of a `c` entry
        // counts as an `i` entry of its own.
        let entryKeys = key.map { "e." + Identifier.quoted($0) }.joined(separator: ", ")
        let others = journal.valueColumns.map(Identifier.quoted)
        let all = (["backfill_seq", "backfill_op", "backfill_at"] + key.map(Identifier.quoted) + ["backfill_after"] + others)
            .joined(separator: ", ")
        var entries = "SELECT \(all) FROM \(quotedJournal) WHERE backfill_run = $1 AND backfill_op <> 'c'"
        if journal.journalsCopiesByBatch && journal.hasCopiedEntries {
            let copied = (["backfill_seq", "'i'", "backfill_at", journal.copiedKeys(of: "c"), "NULL"] + others.map { _ in "NULL" })
                .joined(separator: ", ")
            entries += " UNION ALL SELECT \(copied) FROM \(quotedJournal) c WHERE backfill_run = $1 AND backfill_op = 'c'"
        }
        return try await listed(
            """
            SELECT e.backfill_seq, e.backfill_op, e.backfill_at, \(entryKeys)
            FROM (SELECT DISTINCT ON (\(keys)) * FROM (\(entries)) x ORDER BY \(keys), backfill_seq) e
            LEFT JOIN \(target) t ON \(match)
            WHERE (e.backfill_op = 'i' AND t.\(firstKey) IS NOT NULL)
              OR (e.backfill_op IN ('u', 'd') AND (t.\(firstKey) IS NULL OR \(journal.rowHash("t")) <> \(journal.rowHash("e"))))
            """, run: run, limit: limit)
    }

    /// `backfill_rows` of a `c` entry (`j`), NULL for any other — read through `to_jsonb`, so that a
    /// journal an earlier version created, without the column, is read too.
    static let copiedRowCount = "CASE WHEN j.backfill_op = 'c' THEN (to_jsonb(j.*) ->> 'backfill_rows')::bigint END"

    /// The rows entry `j` stands for: a `c` entry's, 1 for any other.
    static let rowsOfEntry = "coalesce(\(copiedRowCount), 1)"

    /// Up to `limit` of the entries `select` (over the journal's rows, the run's tag being `$1`)
    /// finds, oldest first: sequence, operation, when, and the key's columns as text.
    /// A `c` entry's row count is read through `to_jsonb` (`copiedRowCount`): `select` may give no such column.
    private func listed(_ select: String, run: RunRecord, limit: Int) async throws -> [JournalEntry] {
        let keys = key.map { "j." + Identifier.quoted($0) + "::text" }.joined(separator: ", ")
        let extra = "(\(Self.copiedRowCount))::text, "
        let rows = try await database.textRows(
            PostgresQuery(unsafeSQL: """
                SELECT j.backfill_seq::text AS seq, j.backfill_op, to_char(j.backfill_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  \(extra)\(keys)
                FROM (\(select)) j ORDER BY j.backfill_seq LIMIT \(limit)
                """, binds: Self.bind(run)),
            "reading the journal")
        return rows.map { row in
            JournalEntry(
                seq: (row[0] ?? nil).flatMap { Int64($0) } ?? 0, op: row[1] ?? "", at: row[2] ?? "", key: Array(row.dropFirst(4)),
                rows: row[1] == "c" ? (row[3] ?? nil).flatMap { Int($0) } : nil)
        }
    }

    /// Whether the journal table exists.
    private func exists() async throws -> Bool {
        try await PostgresTargetTable.exists("backfill." + PostgresJournalSQL.journalName(of: table), in: database)
    }

    private static func bind(_ run: RunRecord) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(run.journalTag)
        return binds
    }
}
