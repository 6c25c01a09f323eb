import BackfillCore

/// The SQL of one sink batch: rows are copied into `stage` (created by `createStage`, emptied at
/// commit), then `merge` (or `preview`, for dry runs) returns one row of four counts: staged,
/// differing, inserted, updated.
protocol PostgresBatchSQL: Sendable {
    var stage: String { get }
    var createStage: String { get }
    var merge: String { get }
    var preview: String { get }
}

/// The statements of one PostgreSQL sink batch: a staging table, and one merge that drops
/// unchanged rows with an anti-join bounded to the batch's key range before writing the rest.
///
/// `INSERT … ON CONFLICT … DO UPDATE … WHERE … IS DISTINCT FROM` alone writes nothing for equal
/// rows but still locks them and logs WAL; filtering them out first means a rerun over equal data
/// locks and logs nothing. The bound keeps the planner from walking the whole key index per batch.
struct PostgresMergeSQL: PostgresBatchSQL {
    let table: String
    /// A session-local temporary table with the job's columns, emptied at every commit.
    let stage: String
    let columns: [String]
    let key: [String]
    let mode: WriteMode
    let version: String?
    /// Lower-cased names of the columns whose type has no equality (`json`, `point`, `xml`, …):
    /// compared by their text form, which is also how `verify` hashes them.
    let textCompared: Set<String>
    /// Where the merge keeps the before-images of the rows it changes (`journal:`); with a journal
    /// the merge takes one bind, the run's tag.
    let journal: PostgresJournalSQL?

    init(table: String, job: ResolvedJob, textCompared: Set<String> = [], journal: PostgresJournalSQL? = nil) {
        self.textCompared = textCompared
        self.journal = journal
        self.table = table
        self.columns = job.columns
        self.key = job.keyIndices.map { job.columns[$0] }
        self.mode = job.spec.mode
        self.version = job.versionIndex.map { job.columns[$0] }
        self.stage = "backfill_stage_" + Fingerprint.hex(of: ([table] + job.columns).joined(separator: ",")).prefix(12)
    }

    private var target: String { Identifier.quoted(table) }
    private var quotedStage: String { Identifier.quoted(stage) }
    private var valueColumns: [String] {
        let keys = Set(key.map { $0.lowercased() })
        return columns.filter { !keys.contains($0.lowercased()) }
    }

    private func tuple(_ alias: String, _ names: [String]) -> String {
        "(" + names.map { "\(alias).\(Identifier.quoted($0))" }.joined(separator: ", ") + ")"
    }

    /// `tuple` for comparing values: columns without an equality operator by their text.
    private func compared(_ alias: String, _ names: [String]) -> String {
        "(" + names.map { name in
            let column = "\(alias).\(Identifier.quoted(name))"
            return textCompared.contains(name.lowercased()) ? column + "::text" : column
        }.joined(separator: ", ") + ")"
    }

    private var list: String { columns.map(Identifier.quoted).joined(separator: ", ") }

    /// Whether a batch none of whose keys the target holds may be `COPY`ed straight into the
    /// table: the merge would insert every row of it (`upsert`, `insert-missing`).
    var insertsAbsentRows: Bool { mode == .upsert || mode == .insertMissing }

    /// The table and columns of that `COPY`, as postgres-nio's `copyFrom` takes them: it wraps each
    /// name in double quotes as it is, so they are passed quoted (inner quotes doubled, `"."`
    /// between schema and table) without their outer quotes.
    var copyTarget: (table: String, columns: [String]) {
        let inner = { (name: String) in String(Identifier.quoted(name).dropFirst().dropLast()) }
        return (inner(table), columns.map(inner))
    }

    /// Creates the staging table on this connection if it is not there yet.
    var createStage: String {
        "CREATE TEMP TABLE IF NOT EXISTS \(quotedStage) ON COMMIT DELETE ROWS AS SELECT \(list) FROM \(target) WITH NO DATA"
    }

    /// `true` where the version guard lets the source row `s` replace the target row `t`.
    private func versionAllows(target t: String, source s: String) -> String {
        guard let version else { return "true" }
        let v = Identifier.quoted(version)
        return "(\(t).\(v) IS NULL OR (\(s).\(v) IS NOT NULL AND \(t).\(v) <= \(s).\(v)))"
    }

    /// Staged rows that are missing from the target or differ from it, with `present` (the key
    /// exists in the target) and `wins` (the version guard allows replacing it).
    private var differing: String {
        let keys = key.map(Identifier.quoted)
        let ascending = keys.joined(separator: ", ")
        let descending = keys.map { $0 + " DESC" }.joined(separator: ", ")
        let sKey = tuple("s", key), tKey = tuple("t", key)
        let firstKey = "\(tKey) >= (SELECT \(ascending) FROM \(quotedStage) ORDER BY \(ascending) LIMIT 1)"
        let lastKey = "\(tKey) <= (SELECT \(ascending) FROM \(quotedStage) ORDER BY \(descending) LIMIT 1)"
        let changed = valueColumns.isEmpty ? "false" : "\(compared("t", valueColumns)) IS DISTINCT FROM \(compared("s", valueColumns))"
        let present = "t.\(keys[0]) IS NOT NULL"
        return """
            SELECT s.*, \(present) AS backfill_present, \(versionAllows(target: "t", source: "s")) AS backfill_wins
            FROM \(quotedStage) s
            LEFT JOIN \(target) t ON \(tKey) = \(sKey) AND \(firstKey) AND \(lastKey)
            WHERE t.\(keys[0]) IS NULL OR \(changed)
            """
    }

    /// Writes the differing rows and returns one row: staged, differing, inserted, updated.
    var merge: String {
        let write: String
        switch mode {
        case .upsert, .insertMissing:
            let conflict: String
            if mode == .insertMissing || valueColumns.isEmpty {
                conflict = "DO NOTHING"
            } else {
                let assignments = valueColumns.map { "\(Identifier.quoted($0)) = EXCLUDED.\(Identifier.quoted($0))" }.joined(separator: ", ")
                conflict = """
                    DO UPDATE SET \(assignments)
                    WHERE \(compared("t", valueColumns)) IS DISTINCT FROM \(compared("EXCLUDED", valueColumns)) AND \(versionAllows(target: "t", source: "EXCLUDED"))
                    """
            }
            let keys = key.map(Identifier.quoted).joined(separator: ", ")
            write = """
                INSERT INTO \(target) AS t (\(list)) SELECT \(list) FROM backfill_diff
                ON CONFLICT (\(keys)) \(conflict)
                RETURNING (t.xmax = 0) AS inserted\(journaledReturning)
                """
        case .updateExisting, .updateInPlace:  // update-in-place batches use PostgresInPlaceSQL
            let assignments = valueColumns.map { "\(Identifier.quoted($0)) = d.\(Identifier.quoted($0))" }.joined(separator: ", ")
            let changed = "\(compared("t", valueColumns)) IS DISTINCT FROM \(compared("d", valueColumns))"
            write = valueColumns.isEmpty ? "SELECT false AS inserted\(journaledReturning) FROM \(target) t WHERE false" : """
                UPDATE \(target) AS t SET \(assignments) FROM backfill_diff d
                WHERE \(tuple("t", key)) = \(tuple("d", key)) AND \(changed) AND \(versionAllows(target: "t", source: "d"))
                RETURNING false AS inserted\(journaledReturning)
                """
        }
        let journaled = journal.map { journal in
            // The pre-images are read in the statement's snapshot, which its own writes do not change.
            ",\n" + journal.before(diff: "backfill_diff") + ",\n" + journal.entries(written: "backfill_written")
        } ?? ""
        return """
            WITH backfill_diff AS MATERIALIZED (\(differing)),
            backfill_written AS (\(write))\(journaled)
            SELECT (SELECT count(*) FROM \(quotedStage))::text, (SELECT count(*) FROM backfill_diff)::text,
              count(*) FILTER (WHERE inserted)::text, count(*) FILTER (WHERE NOT inserted)::text
            FROM backfill_written
            """
    }

    private var journaledReturning: String { journal.map { ", " + $0.returning } ?? "" }

    /// What the merge would do, without writing: staged, differing, would insert, would update.
    var preview: String {
        let (insert, update): (String, String)
        switch mode {
        case .upsert: (insert, update) = ("NOT backfill_present", "backfill_present AND backfill_wins")
        case .insertMissing: (insert, update) = ("NOT backfill_present", "false")
        case .updateExisting, .updateInPlace: (insert, update) = ("false", "backfill_present AND backfill_wins")
        }
        return """
            WITH backfill_diff AS MATERIALIZED (\(differing))
            SELECT (SELECT count(*) FROM \(quotedStage))::text, count(*)::text,
              count(*) FILTER (WHERE \(insert))::text, count(*) FILTER (WHERE \(update))::text
            FROM backfill_diff
            """
    }
}
