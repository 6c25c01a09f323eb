import BackfillCore

/// The statements of one `update-in-place` batch: the batch's keys are copied into a staging
/// table, then one `UPDATE … SET c = expression … WHERE c IS DISTINCT FROM expression` touches
/// only the rows whose value changes — a rerun, or a row the application already filled, costs
/// no write and no row lock.
struct PostgresInPlaceSQL: PostgresBatchSQL {
    let table: String
    let key: [String]
    let set: [ColumnExpression]
    let stage: String
    /// Lower-cased names of set columns whose type has no equality: compared by their text.
    let textCompared: Set<String>
    /// Where the update keeps the before-images of the rows it changes (`journal:`); with a journal
    /// the statement takes one bind, the run's tag.
    let journal: PostgresJournalSQL?

    init(table: String, key: [String], set: [ColumnExpression], textCompared: Set<String> = [], journal: PostgresJournalSQL? = nil) {
        self.textCompared = textCompared
        self.journal = journal
        self.table = table
        self.key = key
        self.set = set
        self.stage = "backfill_keys_" + Fingerprint.hex(of: ([table] + key).joined(separator: ",")).prefix(12)
    }

    private var target: String { Identifier.quoted(table) }
    private var quotedStage: String { Identifier.quoted(stage) }
    /// Stage columns are renamed so that an expression naming a key column means the target's.
    private func stageColumn(_ index: Int) -> String { "backfill_k\(index)" }

    var createStage: String {
        let columns = key.enumerated().map { "\(Identifier.quoted($1)) AS \(stageColumn($0))" }.joined(separator: ", ")
        return "CREATE TEMP TABLE IF NOT EXISTS \(quotedStage) ON COMMIT DELETE ROWS AS SELECT \(columns) FROM \(target) WITH NO DATA"
    }

    private var matchesStage: String {
        let t = "(" + key.map { "t.\(Identifier.quoted($0))" }.joined(separator: ", ") + ")"
        let s = "(" + key.indices.map { "s.\(stageColumn($0))" }.joined(separator: ", ") + ")"
        return "\(t) = \(s)"
    }

    private var changes: String {
        let byText = { (column: String) in self.textCompared.contains(column.lowercased()) ? "::text" : "" }
        let current = "(" + set.map { "t.\(Identifier.quoted($0.column))\(byText($0.column))" }.joined(separator: ", ") + ")"
        let computed = "(" + set.map { "(\($0.expression))\(byText($0.column))" }.joined(separator: ", ") + ")"
        guard set.count == 1 else { return "\(current) IS DISTINCT FROM ROW\(computed)" }
        return "t.\(Identifier.quoted(set[0].column))\(byText(set[0].column)) IS DISTINCT FROM (\(set[0].expression))\(byText(set[0].column))"
    }

    var merge: String {
        let assignments = set.map { "\(Identifier.quoted($0.column)) = (\($0.expression))" }.joined(separator: ", ")
        guard let journal else {
            return """
                WITH backfill_written AS (
                  UPDATE \(target) AS t SET \(assignments) FROM \(quotedStage) s
                  WHERE \(matchesStage) AND \(changes)
                  RETURNING 1)
                SELECT (SELECT count(*) FROM \(quotedStage))::text, count(*)::text, '0', count(*)::text FROM backfill_written
                """
        }
        // The pre-images are read in the statement's snapshot, which its own update does not change.
        return """
            WITH backfill_before AS MATERIALIZED (
              SELECT t.* FROM \(target) AS t JOIN \(quotedStage) s ON \(matchesStage) WHERE \(changes)),
            backfill_written AS (
              UPDATE \(target) AS t SET \(assignments) FROM \(quotedStage) s
              WHERE \(matchesStage) AND \(changes)
              RETURNING false AS inserted, \(journal.returning)),
            \(journal.entries(written: "backfill_written"))
            SELECT (SELECT count(*) FROM \(quotedStage))::text, count(*)::text, '0', count(*)::text FROM backfill_written
            """
    }

    var preview: String {
        """
        SELECT (SELECT count(*) FROM \(quotedStage))::text, count(*)::text, '0', count(*)::text
        FROM \(target) AS t JOIN \(quotedStage) s ON \(matchesStage) WHERE \(changes)
        """
    }
}
