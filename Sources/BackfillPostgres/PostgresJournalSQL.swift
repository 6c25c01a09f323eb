import BackfillCore

/// The journal of a PostgreSQL target table: the before-image of every row a journaled run
/// changed, in the table `backfill."journal_…"` of the target's database — one per target table,
/// with the target's columns (without their constraints) and four of its own:
///
/// - `backfill_run`: the run, `JOB/RUN-ID`;
/// - `backfill_op`: `i` (the run inserted the row: only its key is kept), `u` (the run updated it:
///   the whole row as it was), `d` (the run deleted it: the whole row), `c` (the run `COPY`ed a
///   batch of rows into a key range that held none: one entry for the batch, below);
/// - `backfill_after`: the hash of the row as the run wrote it (`hash_record_extended` over every
///   column, those without a hash function by their text: `PostgresTableInfo.rowHash`), so that
///   an undo can tell whether the row still holds exactly that;
/// - `backfill_seq`: the order of the entries; `backfill_at`: when each was written.
///
/// Entries are written by the statement that writes the rows (`PostgresMergeSQL.merge`), so an
/// entry exists exactly when its write committed.
///
/// A `c` entry stands for every row of a batch `COPY`ed straight into the table (a key of one
/// column): its key column holds the batch's first key, `backfill_keys` every key (as text),
/// `backfill_hashes` the hash of each row as written (as `backfill_after` of an `i` entry) and
/// `backfill_rows` how many — one journal row per batch instead of an indexed row per key, read
/// by the undo key by key as `i` entries.
struct PostgresJournalSQL: Sendable {
    /// The target table, as the spec names it.
    let table: String
    /// Every column of the target table, in its order.
    let columns: [String]
    /// The job's key columns.
    let key: [String]
    /// The table's columns and types, for its row hash.
    let info: PostgresTableInfo

    /// The journal of `table`, whose columns and types `info` describes.
    /// - Throws: `BackfillError` `.invalidInput` when a column has a name the journal uses itself.
    init(table: String, info: PostgresTableInfo, key: [String], location: String) throws {
        let columns = info.description.columns.map(\.name)
        try JournalColumns.check(columns, location: location)
        self.table = table
        self.columns = columns
        self.key = key
        self.info = info
    }

    /// The table's columns that are not the key's, in its order.
    var valueColumns: [String] {
        let keys = Set(key.map { $0.lowercased() })
        return columns.filter { !keys.contains($0.lowercased()) }
    }

    /// The hash of the whole row `alias` (`PostgresTableInfo.rowHash`).
    func rowHash(_ alias: String) -> String { info.rowHash(of: columns, alias: alias) }


    /// `backfill."journal_<hash of the table's name>"`.
    var quotedJournal: String { Self.quotedJournal(of: table) }

    static func quotedJournal(of table: String) -> String { "backfill." + Identifier.quoted(journalName(of: table)) }

    static func journalName(of table: String) -> String {
        "journal_" + Fingerprint.hex(of: table).prefix(16)
    }

    /// Creates the schema, the journal table and its index if missing, and adds the columns the
    /// target gained since, under a transaction-level advisory lock (workers starting at once would
    /// collide on `CREATE … IF NOT EXISTS`).
    var create: [String] {
        let target = Identifier.quoted(table)
        let index = Identifier.quoted(Self.journalName(of: table) + "_run")
        return [
            "SELECT pg_advisory_xact_lock(hashtext('backfill journal'))",
            "CREATE SCHEMA IF NOT EXISTS backfill",
            """
            CREATE TABLE IF NOT EXISTS \(quotedJournal) AS
            SELECT NULL::text AS backfill_run, NULL::text AS backfill_op, NULL::bigint AS backfill_after, t.*
            FROM \(target) t WITH NO DATA
            """,
            // Columns the target gained since its journal was created.
            "ALTER TABLE \(quotedJournal) " + columns.map { column in
                "ADD COLUMN IF NOT EXISTS \(Identifier.quoted(column)) \(info.type(of: column)?.formatted ?? "text")"
            }.joined(separator: ", "),
            "ALTER TABLE \(quotedJournal) ADD COLUMN IF NOT EXISTS backfill_seq bigserial",
            """
            ALTER TABLE \(quotedJournal) ADD COLUMN IF NOT EXISTS backfill_keys text[],
              ADD COLUMN IF NOT EXISTS backfill_hashes bigint[], ADD COLUMN IF NOT EXISTS backfill_rows bigint
            """,
            "ALTER TABLE \(quotedJournal) ADD COLUMN IF NOT EXISTS backfill_at timestamptz NOT NULL DEFAULT now()",
            "CREATE INDEX IF NOT EXISTS \(index) ON \(quotedJournal) (backfill_run, backfill_seq)",
        ]
    }

    /// Deletes the entries of every run whose last entry is older than `keep` seconds
    /// (`journal: { keep: … }`).
    func prune(keep: Double) -> String {
        """
        DELETE FROM \(quotedJournal) WHERE backfill_run IN (
          SELECT backfill_run FROM \(quotedJournal) GROUP BY backfill_run
          HAVING max(backfill_at) < now() - \(Int(keep.rounded())) * interval '1 second')
        """
    }

    /// The CTE that keeps the pre-images of the rows `diff` (a CTE with the staged rows that
    /// differ and `backfill_present`) will update (`update-in-place` reads its own): read in the merge statement's snapshot, which
    /// its writes do not change.
    func before(diff: String) -> String {
        let target = Identifier.quoted(table)
        let match = key.map { "t.\(Identifier.quoted($0)) = d.\(Identifier.quoted($0))" }.joined(separator: " AND ")
        return "backfill_before AS MATERIALIZED (SELECT t.* FROM \(target) t JOIN \(diff) d ON \(match) WHERE d.backfill_present)"
    }

    /// What a journaled write returns besides `inserted`: its key and the hash of the row written.
    var returning: String {
        let keys = key.enumerated().map { index, name in "t.\(Identifier.quoted(name)) AS backfill_k\(index)" }
        return (keys + ["\(rowHash("t")) AS backfill_after"]).joined(separator: ", ")
    }

    /// The CTE that writes one entry per row of `written` (the write's `RETURNING`), the run's
    /// tag being bind `$1`.
    func entries(written: String) -> String {
        let keyIndex = Dictionary(key.enumerated().map { ($1.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        let values = columns.map { column in
            keyIndex[column.lowercased()].map { "w.backfill_k\($0)" } ?? "b.\(Identifier.quoted(column))"
        }
        let match = key.enumerated().map { index, name in "b.\(Identifier.quoted(name)) = w.backfill_k\(index)" }.joined(separator: " AND ")
        let list = (["backfill_run", "backfill_op", "backfill_after"] + columns.map(Identifier.quoted)).joined(separator: ", ")
        return """
            backfill_journaled AS (
              INSERT INTO \(quotedJournal) (\(list))
              SELECT $1, CASE WHEN w.inserted THEN 'i' ELSE 'u' END, w.backfill_after, \(values.joined(separator: ", "))
              FROM \(written) w LEFT JOIN backfill_before b ON \(match))
            """
    }

    /// Whether a batch `COPY`ed straight in is journaled by one `c` entry: a key of one column.
    var journalsCopiesByBatch: Bool { key.count == 1 }

    /// Whether the journal table has the columns of `c` entries: one an earlier version created
    /// has none (nor any `c` entry) until a run writes to it again.
    var hasCopiedEntries = true

    /// The `c` entry of a batch of `rows` rows `COPY`ed straight into the table
    /// (`PostgresSink.copyAbsent`) by the same subtransaction, the run's tag being bind `$1`:
    /// `first` and `last` are the batch's lowest and highest keys (bound expressions). The batch's
    /// rows are those of the key range inserted by the transaction that inserted the row at
    /// `first` (its `xmin`): not a row live traffic inserted in the range meanwhile. Returns a
    /// row only when the range (`keyTuple` over the table's columns, in their collation) holds
    /// exactly `rows` of them — else nothing is written and the caller merges the batch instead.
    func copiedBatch(keyTuple: String, first: String, last: String, rows: Int) -> String {
        let target = Identifier.quoted(table)
        let column = Identifier.quoted(key[0])
        // Unqualified, the key's columns are each subquery's own table's.
        return """
            INSERT INTO \(quotedJournal) (backfill_run, backfill_op, \(column), backfill_keys, backfill_hashes, backfill_rows)
            SELECT $1, 'c', \(first), n.keys, n.hashes, n.rows
            FROM (SELECT f.xmin FROM \(target) f WHERE \(keyTuple) = (\(first))) x,
              LATERAL (
                SELECT count(*) AS rows, array_agg(t.\(column)::text) AS keys, array_agg(\(rowHash("t"))) AS hashes FROM \(target) t
                WHERE \(keyTuple) >= (\(first)) AND \(keyTuple) <= (\(last)) AND t.xmin = x.xmin) n
            WHERE n.rows = \(rows)
            RETURNING 1
            """
    }

    /// The type of the key's one column, as a `c` entry's keys (text) are cast back to it.
    var copiedKeyType: String { info.type(of: key[0])?.formatted ?? "text" }

    /// The keys of the `c` entry `entry`, typed: a set-returning expression.
    func copiedKeys(of entry: String) -> String {
        "unnest(\(entry).backfill_keys)::\(copiedKeyType)"
    }

    /// A row per row of the `c` entries whose sequence numbers are bind `seqs` (an array), as an
    /// `i` entry would give it: `backfill_seq`, the key column and `backfill_after`.
    func copiedRows(seqs: String) -> String {
        """
        SELECT e.backfill_seq, \(copiedKeys(of: "e")) AS \(Identifier.quoted(key[0])), unnest(e.backfill_hashes) AS backfill_after
        FROM \(quotedJournal) e WHERE e.backfill_seq = ANY(\(seqs)) AND e.backfill_op = 'c'
        """
    }

    /// The entries of a batch `COPY`ed straight into the table with a key of several columns:
    /// every row in the key range `lower`…`upper` (over `keyTuple`) that the same subtransaction
    /// inserted as the row at `lower` — the batch's own rows, not a row live traffic inserted in
    /// the range meanwhile. The run's tag is bind `$1`. Returns the entries written.
    func copied(keyTuple: String, lower: String, upper: String) -> String {
        let target = Identifier.quoted(table)
        let keys = key.map { "t." + Identifier.quoted($0) }.joined(separator: ", ")
        let list = (["backfill_run", "backfill_op", "backfill_after"] + key.map(Identifier.quoted)).joined(separator: ", ")
        // Unqualified, the key's columns are the subquery's own (`f`).
        let firstRow = "SELECT f.xmin FROM \(target) f WHERE \(keyTuple) = \(lower)"
        return """
            WITH w AS (
              INSERT INTO \(quotedJournal) (\(list))
              SELECT $1, 'i', \(rowHash("t")), \(keys) FROM \(target) t
              WHERE \(keyTuple) >= \(lower) AND \(keyTuple) <= \(upper) AND t.xmin = (\(firstRow))
              RETURNING 1)
            SELECT count(*)::text FROM w
            """
    }

    /// The CTE that journals the rows `deleted` (a `DELETE … RETURNING *`) as `d` entries, whole;
    /// the run's tag is bind `$1`.
    func deleted(from deleted: String) -> String {
        let list = columns.map(Identifier.quoted).joined(separator: ", ")
        let values = columns.map { "x." + Identifier.quoted($0) }.joined(separator: ", ")
        return """
            backfill_journaled AS (
              INSERT INTO \(quotedJournal) (backfill_run, backfill_op, backfill_after, \(list))
              SELECT $1, 'd', NULL, \(values) FROM \(deleted) x)
            """
    }
}
