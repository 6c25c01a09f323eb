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
/// runs take the row path.
public struct SQLiteAttachedTransfer: BatchTransfer {
    private let database: DatabaseQueue
    private let source: KeysetSQL
    private let statements: Statements
    private let location: String

    static let sourceSchema = "backfill_src"
    static let batchTable = "temp.backfill_batch"

    /// The SQL of one job; `%WHERE%` stands for the batch's conditions on the source.
    struct Statements: Sendable {
        var createBatch: String
        var collect: String
        var merge: String
    }

    /// Whether the job can use the attached path.
    public static func supports(_ job: ResolvedJob) -> Bool { job.spec.mode != .updateExisting }

    /// Opens a second connection to the target with the source attached.
    /// - Throws: `BackfillError` when either file cannot be opened.
    public init(sourcePath: String, sourceTable: String, targetPath: String, targetTable: String, job: ResolvedJob) throws {
        self.location = "\(targetPath) table \(targetTable)"
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
        }
        do {
            database = try DatabaseQueue(path: targetPath, configuration: configuration)
        } catch {
            throw SQLiteErrors.map(error, "attaching the source to the target", location: location)
        }
    }

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
        do {
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
                    try db.cachedStatement(sql: statements.merge).execute()
                    let written = db.changesCount
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
