import BackfillCore
import Foundation
import GRDB

/// SQLite → SQLite without shipping rows through Swift: the target connection attaches the source.
///
/// Per batch, in one `BEGIN IMMEDIATE` transaction: an index-only scan finds the batch's last key;
/// one anti-join copies only the rows that are missing or differ into a temporary table (so equal
/// rows are never touched, locked or journaled); one `INSERT … ON CONFLICT DO UPDATE … WHERE` merges
/// them under the `newer-wins` guard. The counts follow exactly: missing rows are inserted, the
/// merge's change count minus those is the updated rows, differing rows not updated were kept by the
/// guard, the rest are unchanged. Used for `upsert` and `insert-missing`; `update-existing` and dry
/// runs take the row path. A journaled job's batch keeps the pre-images of the rows it is about to
/// merge and journals those the merge changed, in the same transaction (`SQLiteJournalSQL`).
public struct SQLiteAttachedTransfer: BatchTransfer {
    private let database: DatabaseQueue
    private let source: KeysetSQL
    private let statements: Statements
    private let location: String
    /// The journal's statements, and the tag of the run whose batches they record.
    private let journal: JournalStatements?
    private let journalTag: String?
    private let journalReady: JournalReady

    static let sourceSchema = "backfill_src"
    static let batchTable = "temp.backfill_batch"
    static let beforeTable = "temp.backfill_before"

    /// The SQL of one job; `%WHERE%` stands for the batch's conditions on the source.
    struct Statements: Sendable {
        var createBatch: String
        var collect: String
        var merge: String
    }

    /// Whether the job can use the attached path.
    public static func supports(_ job: ResolvedJob) -> Bool { job.spec.mode != .updateExisting }

    /// Opens a second connection to the target with the source attached.
    /// - Parameter journal: the target's journal when the job is journaled (`SQLiteSink.journal`).
    /// - Throws: `BackfillError` when either file cannot be opened.
    public init(
        sourcePath: String, sourceTable: String, targetPath: String, targetTable: String, job: ResolvedJob,
        journal: SQLiteJournalSQL? = nil
    ) throws {
        self.location = "\(targetPath) table \(targetTable)"
        let journal = journal.map { JournalStatements(sql: $0, job: job) }
        self.journal = journal
        self.journalTag = nil
        self.journalReady = JournalReady()
        source = KeysetSQL(
            table: sourceTable, columns: job.columns, key: job.spec.key, whereClause: job.spec.range.whereClause,
            schema: Self.sourceSchema)
        let statements = Self.statements(source: source, targetTable: targetTable, job: job)
        self.statements = statements
        guard FileManager.default.fileExists(atPath: sourcePath), FileManager.default.fileExists(atPath: targetPath) else {
            throw BackfillError(.invalidInput, "cannot open SQLite database (does the file exist?)", location: location)
        }
        let cacheKiB = max(2048, (job.spec.batch.adaptive ? job.spec.batch.max : job.spec.batch.size) * 400 / 1024)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "backfill.transfer"
        configuration.prepareDatabase { db in
            try db.execute(sql: "ATTACH DATABASE ? AS \(Self.sourceSchema)", arguments: [sourcePath])
            // Each batch passes over the same source and target pages a few times (boundary scan,
            // anti-join, merge); a page cache that holds a batch's pages keeps those passes out of
            // the kernel. Sized by the batch (about 400 bytes a row, at least SQLite's default
            // 2 MiB), so memory follows invariant 5: workers × batch size, whatever the table size.
            try db.execute(sql: "PRAGMA main.cache_size = -\(cacheKiB)")
            try db.execute(sql: "PRAGMA \(Self.sourceSchema).cache_size = -\(cacheKiB)")
            // The batch table is refilled every batch: in memory, its pages never reach a file.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            try db.execute(sql: statements.createBatch)
            if let journal {
                db.add(function: RowHashFunction.function)
                try db.execute(sql: journal.createBefore)
            }
        }
        do {
            database = try DatabaseQueue(path: targetPath, configuration: configuration)
        } catch {
            throw SQLiteErrors.map(error, "attaching the source to the target", location: location)
        }
    }

    private init(copying other: SQLiteAttachedTransfer, journalTag: String) {
        database = other.database
        source = other.source
        statements = other.statements
        location = other.location
        journal = other.journal
        self.journalTag = journalTag
        journalReady = other.journalReady
    }

    /// This transfer, its journal entries tagged as `run`'s.
    public func forRun(_ run: RunRecord) -> any BatchTransfer { SQLiteAttachedTransfer(copying: self, journalTag: run.journalTag) }

    private static func statements(source: KeysetSQL, targetTable: String, job: ResolvedJob) -> Statements {
        let columns = job.columns.map(Identifier.quoted)
        let keys = job.keyIndices.map { columns[$0] }
        let others = columns.indices.filter { !job.keyIndices.contains($0) }.map { columns[$0] }
        let target = "main." + Identifier.quoted(targetTable)
        let joinOn = keys.map { "t.\($0) = s.\($0)" }.joined(separator: " AND ")
        let sourceDiffers = others.isEmpty
            ? "0" : "(\(others.map { "t." + $0 }.joined(separator: ", "))) IS NOT (\(others.map { "s." + $0 }.joined(separator: ", ")))"
        let collect = """
            INSERT INTO \(batchTable) SELECT \(columns.map { "s." + $0 }.joined(separator: ", ")), t.\(keys[0]) IS NULL
            FROM (SELECT \(source.selectList) FROM \(source.quotedTable) %WHERE%) AS s
            LEFT JOIN \(target) AS t ON \(joinOn)
            WHERE t.\(keys[0]) IS NULL OR \(sourceDiffers)
            """
        let differs = others.isEmpty
            ? "0" : "(\(others.joined(separator: ", "))) IS NOT (\(others.map { "excluded." + $0 }.joined(separator: ", ")))"
        var guardSQL = ""
        if let version = job.versionIndex.map({ columns[$0] }) {
            guardSQL = " AND NOT (\(version) IS NOT NULL AND (excluded.\(version) IS NULL OR \(version) > excluded.\(version)))"
        }
        let selectBatch = "SELECT \(columns.joined(separator: ", ")) FROM \(batchTable)"
        let merge: String
        if job.spec.mode == .insertMissing || others.isEmpty {
            merge = "INSERT INTO \(target) (\(columns.joined(separator: ", "))) \(selectBatch) WHERE backfill_missing ON CONFLICT DO NOTHING"
        } else {
            let assignments = others.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            merge = "INSERT INTO \(target) (\(columns.joined(separator: ", "))) \(selectBatch) WHERE true "
                + "ON CONFLICT (\(keys.joined(separator: ", "))) DO UPDATE SET \(assignments) WHERE \(differs)\(guardSQL)"
        }
        let createBatch = "CREATE TEMP TABLE IF NOT EXISTS backfill_batch AS SELECT \(source.selectList), 0 AS backfill_missing FROM \(source.quotedTable) WHERE 0"
        return Statements(createBatch: createBatch, collect: collect, merge: merge)
    }

    /// How many rows the batch holds and its last key, from index-only scans of the source: the
    /// row at offset `limit - 1`, or, for the chunk's last batch, the count and the largest key left.
    private static func boundary(
        _ db: Database, source: KeysetSQL, chunk: KeyRange, after cursor: BackfillCore.Cursor?, limit: Int
    ) throws -> (Int, [BackfillCore.Value])? {
        let keyList = source.key.map(Identifier.quoted).joined(separator: ", ")
        let (conditions, arguments) = source.conditions(range: chunk, after: cursor?.key)
        let from = "FROM \(source.quotedTable)\(conditions)"
        if let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(keyList) \(from)\(source.orderBy) LIMIT 1 OFFSET ?"),
            arguments: StatementArguments(values: arguments + [.integer(Int64(limit - 1))]))
        {
            return (limit, row.values)
        }
        let descending = source.key.map { Identifier.quoted($0) + " DESC" }.joined(separator: ", ")
        guard let last = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(keyList) \(from) ORDER BY \(descending) LIMIT 1"),
            arguments: StatementArguments(values: arguments))
        else { return nil }
        let count = try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) \(from)"), arguments: StatementArguments(values: arguments)) ?? 0
        return (count, last.values)
    }

    public func transfer(chunk: KeyRange, after cursor: BackfillCore.Cursor?, limit: Int) async throws -> TransferredBatch {
        let source = self.source
        let statements = self.statements
        let journal = self.journal
        let tag = self.journalTag
        do {
            if let journal {
                guard tag != nil else { throw BackfillError(.writeFailed, "a journaled batch outside a run", location: location) }
                try await journalReady.ensure {
                    try await database.write { db in try journal.sql.prepare(db, keep: journal.keep) }
                }
            }
            return try await database.writeWithoutTransaction { db in
                var result = TransferredBatch(read: 0, outcome: WriteOutcome(), cursor: cursor, isLast: true)
                try db.inTransaction(.immediate) {
                    guard let (read, lastKey) = try Self.boundary(db, source: source, chunk: chunk, after: cursor, limit: limit) else {
                        return .commit
                    }
                    // The batch's last key bounds it from above, and lies inside the chunk: the chunk's
                    // upper bound is left out, since SQLite's range scan uses only one upper bound — given
                    // two, it may walk on to the chunk's end, testing the other on every row.
                    let (conditions, arguments) = source.conditions(range: KeyRange(lower: chunk.lower), after: cursor?.key)
                    let upTo = "\(source.keyTuple) <= \(source.placeholders)"
                    let whereSQL = conditions.isEmpty ? " WHERE \(upTo)" : conditions + " AND \(upTo)"
                    try db.cachedStatement(sql: "DELETE FROM \(Self.batchTable)").execute()
                    try db.cachedStatement(sql: statements.collect.replacingOccurrences(of: "%WHERE%", with: whereSQL))
                        .execute(arguments: StatementArguments(values: arguments + lastKey))
                    let counts = try Row.fetchOne(
                        db.cachedStatement(sql: "SELECT count(*), coalesce(sum(backfill_missing), 0) FROM \(Self.batchTable)"))
                    let differing: Int = counts?[0] ?? 0
                    let missing: Int = counts?[1] ?? 0
                    if let journal { try journal.keepBefore(db) }
                    try db.cachedStatement(sql: statements.merge).execute()
                    let written = db.changesCount
                    if let journal, let tag { try journal.record(tag: tag, db: db) }
                    let inserted = min(missing, written)
                    let updated = written - inserted
                    let skipped = differing - written
                    result = TransferredBatch(
                        read: read,
                        outcome: WriteOutcome(inserted: inserted, updated: updated, unchanged: read - differing, skipped: skipped),
                        cursor: BackfillCore.Cursor(key: lastKey), isLast: read < limit)
                    return .commit
                }
                return result
            }
        } catch {
            throw SQLiteErrors.map(error, "merging a batch", location: location)
        }
    }
}

/// What a journaled attached transfer runs besides its merge.
private struct JournalStatements: Sendable {
    let sql: SQLiteJournalSQL
    /// `journal.keep`, in seconds.
    let keep: Double
    /// Creates the connection's table of pre-images (untyped: values kept as stored).
    let createBefore: String
    let clearBefore: String
    /// Keeps the pre-images of the batch's rows present in the target.
    let fillBefore: String
    /// Journals each batch row the merge changed (`?`: the run's tag): inserted where the target
    /// row had no pre-image, updated where it differs from its pre-image. The pre-image is matched
    /// to the target row (copies of its values), never to the batch row, whose types and collation
    /// may differ.
    let entries: String

    init(sql: SQLiteJournalSQL, job: ResolvedJob) {
        self.sql = sql
        keep = job.spec.journal.keep ?? JournalSpec.defaultKeep
        let target = "main." + sql.quotedTable
        let batch = SQLiteAttachedTransfer.batchTable
        let before = SQLiteAttachedTransfer.beforeTable
        createBefore = "CREATE TEMP TABLE IF NOT EXISTS backfill_before (\(sql.list()))"
        clearBefore = "DELETE FROM \(before)"
        fillBefore = "INSERT INTO \(before) SELECT \(sql.list("t")) FROM \(batch) b JOIN \(target) t ON \(sql.keysEqual("t", "b"))"
        let keys = Set(sql.key.map { $0.lowercased() })
        let values = sql.columns.map { (keys.contains($0.lowercased()) ? "t." : "o.") + Identifier.quoted($0) }.joined(separator: ", ")
        let firstKey = Identifier.quoted(sql.key[0])
        entries = """
            INSERT INTO \(sql.quotedJournal) (backfill_run, backfill_op, backfill_after, \(sql.list()))
            SELECT ?, CASE WHEN o.\(firstKey) IS NULL THEN 'i' ELSE 'u' END, \(sql.rowHash("t")), \(values)
            FROM \(batch) b JOIN \(target) t ON \(sql.keysEqual("t", "b")) LEFT JOIN \(before) o ON \(sql.keysEqual("o", "t"))
            WHERE o.\(firstKey) IS NULL OR (\(sql.list("t"))) IS NOT (\(sql.list("o")))
            """
    }

    func keepBefore(_ db: Database) throws {
        try db.cachedStatement(sql: clearBefore).execute()
        try db.cachedStatement(sql: fillBefore).execute()
    }

    func record(tag: String, db: Database) throws {
        try db.cachedStatement(sql: entries).execute(arguments: [tag])
    }
}
