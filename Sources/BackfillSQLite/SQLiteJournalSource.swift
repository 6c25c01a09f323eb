import BackfillCore
import GRDB

/// The entries of one journaled run of a SQLite target, newest first, as the source of its undo:
/// each row is one entry's `backfill_seq`, negated, so that the runner's ascending key order is
/// the journal's descending one (a row the run wrote twice is put back from its later entry first).
struct SQLiteJournalSource: Source {
    let database: DatabaseQueue
    let journal: SQLiteJournalSQL
    /// The tag of the run being undone.
    let tag: String
    let location: String

    var columns: [String] { ["backfill_seq"] }
    var valuesAreText: Bool { false }
    var isKeyOrdered: Bool { true }

    func describe() async throws -> TableDescription {
        TableDescription(columns: [ColumnDescription(name: "backfill_seq", declaredType: "INTEGER", notNull: true)], uniqueKeys: [["backfill_seq"]])
    }

    func checkKey() async throws {}

    /// One chunk: the entries are undone in one order.
    func plan(workers: Int) async throws -> [ChunkPlan] {
        let sql = "SELECT count(*) FROM \(journal.quotedJournal) WHERE backfill_run = ?"
        let tag = self.tag
        let count = try await reading("counting journal entries") { db in try Int.fetchOne(db, sql: sql, arguments: [tag]) ?? 0 }
        return [ChunkPlan(index: 0, range: .all, estimatedRows: count)]
    }

    func read(chunk: KeyRange, after cursor: BackfillCore.Cursor?, limit: Int) async throws -> SourceBatch {
        var arguments: [Value] = [.text(tag)]
        var condition = ""
        if case .integer(let negated)? = cursor?.key?.first {
            arguments.append(.integer(-negated))
            condition = " AND backfill_seq < ?"
        }
        arguments.append(.integer(Int64(limit + 1)))
        let sql = "SELECT backfill_seq FROM \(journal.quotedJournal) WHERE backfill_run = ?\(condition) ORDER BY backfill_seq DESC LIMIT ?"
        let seqs = try await reading("reading journal entries") { [arguments] db in
            try Int64.fetchAll(db, sql: sql, arguments: StatementArguments(values: arguments))
        }
        let values = seqs.prefix(limit).map { [Value.integer(-$0)] }
        return SourceBatch(rows: values, cursor: values.last.map { BackfillCore.Cursor(key: $0) } ?? cursor, isLast: seqs.count <= limit)
    }

    func splitPoint(of chunk: KeyRange, after cursor: BackfillCore.Cursor?, minimumRows: Int) async throws -> SplitPoint? { nil }

    private func reading<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await database.read(body)
        } catch {
            throw SQLiteErrors.map(error, what, location: location)
        }
    }
}
