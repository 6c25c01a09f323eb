import BackfillCore
import PostgresNIO

/// The entries of one journaled run, newest first, as the source of its undo: each row is one
/// entry's `backfill_seq`, negated, so that the runner's ascending key order is the journal's
/// descending one (a row the run wrote twice is put back from its later entry first).
public struct PostgresJournalSource: Source {
    let database: PostgresDatabase
    let journal: PostgresJournalSQL
    /// The tag of the run being undone (`JOB/RUN-ID`).
    let tag: String

    public var columns: [String] { ["backfill_seq"] }
    public var valuesAreText: Bool { false }
    public var isKeyOrdered: Bool { true }

    public func describe() async throws -> TableDescription {
        TableDescription(columns: [ColumnDescription(name: "backfill_seq", declaredType: "bigint", notNull: true)], uniqueKeys: [["backfill_seq"]])
    }

    public func checkKey() async throws {}

    /// One chunk: the entries are undone in one order.
    public func plan(workers: Int) async throws -> [ChunkPlan] {
        let count = try await database.textRows(
            PostgresQuery(unsafeSQL: "SELECT count(*)::text FROM \(journal.quotedJournal) WHERE backfill_run = $1", binds: Self.bind(tag)),
            "counting journal entries")
        return [ChunkPlan(index: 0, range: .all, estimatedRows: count.first?[0].flatMap { Int($0) } ?? 0)]
    }

    public func read(chunk: KeyRange, after cursor: Cursor?, limit: Int) async throws -> SourceBatch {
        var binds = Self.bind(tag)
        var condition = ""
        if case .integer(let negated)? = cursor?.key?.first {
            binds.append(Int64(-negated))
            condition = " AND backfill_seq < $2"
        }
        let rows = try await database.textRows(
            PostgresQuery(unsafeSQL: """
                SELECT j.backfill_seq::text AS seq FROM \(journal.quotedJournal) j WHERE backfill_run = $1\(condition)
                ORDER BY j.backfill_seq DESC LIMIT \(limit + 1)
                """, binds: binds),
            "reading journal entries")
        let values = rows.prefix(limit).compactMap { row in (row.first ?? nil).flatMap { Int64($0) } }.map { [Value.integer(-$0)] }
        return SourceBatch(rows: values, cursor: values.last.map { Cursor(key: $0) } ?? cursor, isLast: rows.count <= limit)
    }

    public func splitPoint(of chunk: KeyRange, after cursor: Cursor?, minimumRows: Int) async throws -> SplitPoint? { nil }

    private static func bind(_ tag: String) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(tag)
        return binds
    }
}
