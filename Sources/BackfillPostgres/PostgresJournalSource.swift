import BackfillCore
import PostgresNIO

/// The entries of one journaled run, newest first, as the source of its undo: each row is one
/// entry's `backfill_seq`, negated, so that the runner's ascending key order is the journal's
/// descending one (a row the run wrote twice is put back from its later entry first).
///
/// A `c` entry (a `COPY`ed batch) comes as one row per row it stands for, all in one batch and
/// in a batch of its own, so that the undo's counters count rows whichever entries hold them.
public struct PostgresJournalSource: Source {
    let database: PostgresDatabase
    let journal: PostgresJournalSQL
    /// The tag of the run being undone (`JOB/RUN-ID`).
    let tag: String

    public var columns: [String] { ["backfill_seq"] }

    /// The rows entry `j` stands for (`PostgresJournal.rowsOfEntry`; 1 in a journal without `c` entries).
    private var rows: String { journal.hasCopiedEntries ? PostgresJournal.rowsOfEntry : "1" }
    /// The rows a `c` entry `j` stands for, 0 for any other entry.
    private var copiedRows: String { journal.hasCopiedEntries ? "coalesce(\(PostgresJournal.copiedRowCount), 0)" : "0" }
    public var valuesAreText: Bool { false }
    public var isKeyOrdered: Bool { true }

    public func describe() async throws -> TableDescription {
        TableDescription(columns: [ColumnDescription(name: "backfill_seq", declaredType: "bigint", notNull: true)], uniqueKeys: [["backfill_seq"]])
    }

    public func checkKey() async throws {}

    /// One chunk: the entries are undone in one order.
    public func plan(workers: Int) async throws -> [ChunkPlan] {
        let count = try await database.textRows(
            PostgresQuery(
                unsafeSQL: "SELECT coalesce(sum(\(rows)), 0)::text FROM \(journal.quotedJournal) j WHERE backfill_run = $1",
                binds: Self.bind(tag)),
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
        let entries = try await database.textRows(
            PostgresQuery(unsafeSQL: """
                SELECT j.backfill_seq::text AS seq, (\(copiedRows))::text FROM \(journal.quotedJournal) j
                WHERE backfill_run = $1\(condition) ORDER BY j.backfill_seq DESC LIMIT \(limit + 1)
                """, binds: binds),
            "reading journal entries")
        var values: [[Value]] = []
        for (index, entry) in entries.prefix(limit).enumerated() {
            guard let seq = (entry.first ?? nil).flatMap({ Int64($0) }) else { continue }
            let copied = entry.count > 1 ? (entry[1] ?? nil).flatMap { Int($0) } ?? 0 : 0
            if copied > 0 {
                // A `c` entry: alone in its batch.
                if index > 0 { return SourceBatch(rows: values, cursor: values.last.map { Cursor(key: $0) } ?? cursor, isLast: false) }
                let rows = Array(repeating: [Value.integer(-seq)], count: copied)
                return SourceBatch(rows: rows, cursor: Cursor(key: [.integer(-seq)]), isLast: entries.count == 1)
            }
            values.append([.integer(-seq)])
        }
        return SourceBatch(rows: values, cursor: values.last.map { Cursor(key: $0) } ?? cursor, isLast: entries.count <= limit)
    }

    public func splitPoint(of chunk: KeyRange, after cursor: Cursor?, minimumRows: Int) async throws -> SplitPoint? { nil }

    private static func bind(_ tag: String) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(tag)
        return binds
    }
}
