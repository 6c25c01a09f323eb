import BackfillCore
import Foundation
import GRDB

/// A table in a SQLite database, written idempotently: only rows that differ are touched.
///
/// Each batch is one `BEGIN IMMEDIATE` transaction that reads the target's rows for the batch's
/// keys, classifies every row (insert, update, unchanged, skipped by a guard) and writes only
/// inserts and updates. Reading inside the write transaction means no live writer can change a
/// row between the comparison and the write, so `newer-wins` holds under concurrent traffic.
public struct SQLiteSink: DeletingSink {
    public let path: String
    public let table: String
    private let job: ResolvedJob?
    /// The job's SQL and row classifier, built once when the sink is configured.
    private let statements: SinkStatements?
    private let classifier: RowClassifier?
    private let database: DatabaseQueue

    /// Opens the target database; it must exist.
    /// - Throws: `BackfillError` `.invalidInput` when the file is missing or not a database.
    public init(path: String, table: String) throws {
        self.path = path
        self.table = table
        self.job = nil
        self.statements = nil
        self.classifier = nil
        self.database = try SQLiteDatabase.open(path: path, readOnly: false)
    }

    private init(copying other: SQLiteSink, job: ResolvedJob) {
        self.path = other.path
        self.table = other.table
        self.job = job
        self.statements = SinkStatements(table: other.table, job: job)
        self.classifier = RowClassifier(mode: job.spec.mode, versionIndex: job.versionIndex)
        self.database = other.database
    }

    /// The same sink, writing the columns of `job`.
    public func configured(for job: ResolvedJob) -> SQLiteSink { SQLiteSink(copying: self, job: job) }

    private var location: String { "\(path) table \(table)" }

    public func describe() async throws -> TableDescription {
        let (table, path) = (self.table, self.path)
        do {
            return try await database.read { db in try SQLiteDatabase.describe(db, table: table, path: path) }
        } catch {
            throw SQLiteErrors.map(error, "reading the target's schema", location: location)
        }
    }

    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        guard let statements, let classifier else {
            throw BackfillError(.writeFailed, "the sink was not configured for a job", location: location)
        }
        guard !rows.isEmpty else { return WriteOutcome() }
        do {
            if dryRun {
                return try await database.read { db in
                    try Self.apply(rows, db: db, statements: statements, classifier: classifier, keyOrdered: keyOrdered, write: false)
                }
            }
            return try await database.writeWithoutTransaction { db in
                var outcome = WriteOutcome()
                try db.inTransaction(.immediate) {
                    outcome = try Self.apply(rows, db: db, statements: statements, classifier: classifier, keyOrdered: keyOrdered, write: true)
                    return .commit
                }
                return outcome
            }
        } catch {
            throw SQLiteErrors.map(error, "writing a batch", location: location)
        }
    }

    /// Deletes the rows with `keys` (`verify --repair --delete-extra`), in one transaction.
    /// - Returns: rows deleted.
    public func delete(keys: [[BackfillCore.Value]]) async throws -> Int {
        guard let job else { throw BackfillError(.writeFailed, "the sink was not configured for a job", location: location) }
        let keyColumns = job.keyIndices.map { Identifier.quoted(job.columns[$0]) }
        let match = keyColumns.map { "\($0) = ?" }.joined(separator: " AND ")
        let sql = "DELETE FROM \(Identifier.quoted(table)) WHERE \(match)"
        do {
            return try await database.write { db in
                var deleted = 0
                for key in keys {
                    try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(values: key))
                    deleted += db.changesCount
                }
                return deleted
            }
        } catch {
            throw SQLiteErrors.map(error, "deleting extra rows", location: location)
        }
    }

    private static func apply(
        _ rows: [[Value]], db: Database, statements: SinkStatements, classifier: RowClassifier, keyOrdered: Bool, write: Bool
    ) throws -> WriteOutcome {
        let existing = try statements.existingRows(for: rows, db: db, keyOrdered: keyOrdered)
        var outcome = WriteOutcome()
        for row in rows {
            switch classifier.classify(row, existing: existing[statements.key(of: row)]) {
            case .insert:
                if write { try statements.insert(row, db: db) }
                outcome.inserted += 1
            case .update:
                if write { try statements.update(row, db: db) }
                outcome.updated += 1
            case .unchanged:
                outcome.unchanged += 1
            case .skip:
                outcome.skipped += 1
            }
        }
        return outcome
    }
}
