import BackfillCore
import Foundation
import GRDB

/// A table in a SQLite database, written idempotently: only rows that differ are touched.
///
/// Each batch is one `BEGIN IMMEDIATE` transaction that reads the target's rows for the batch's
/// keys, classifies every row (insert, update, unchanged, skipped by a guard) and writes only
/// inserts and updates. Reading inside the write transaction means no live writer can change a
/// row between the comparison and the write, so `newer-wins` holds under concurrent traffic.
/// A journaled job's sink journals each row it changes in the same transaction (`SQLiteJournalSQL`).
public struct SQLiteSink: DeletingSink {
    public let path: String
    public let table: String
    private let job: ResolvedJob?
    /// The job's SQL and row classifier, built once when the sink is configured.
    private let statements: SinkStatements?
    private let classifier: RowClassifier?
    private let database: DatabaseQueue
    /// The journal (`journal:`), the tag of the run whose writes it records, and how long it
    /// keeps a run's entries.
    public let journal: SQLiteJournalSQL?
    private let journalTag: String?
    private let journalKeep: Double?
    /// Shared by the sink's copies: whether this process has made sure the journal exists.
    private let journalReady: JournalReady

    /// Opens the target database; it must exist.
    /// - Throws: `BackfillError` `.invalidInput` when the file is missing or not a database.
    public init(path: String, table: String) throws {
        self.path = path
        self.table = table
        self.job = nil
        self.statements = nil
        self.classifier = nil
        self.database = try SQLiteDatabase.open(path: path, readOnly: false)
        self.journal = nil
        self.journalTag = nil
        self.journalKeep = nil
        self.journalReady = JournalReady()
    }

    private init(copying other: SQLiteSink, job: ResolvedJob?, journal: SQLiteJournalSQL?, journalTag: String?) {
        self.path = other.path
        self.table = other.table
        self.job = job
        self.statements = job.map { SinkStatements(table: other.table, job: $0) }
        self.classifier = job.map { RowClassifier(mode: $0.spec.mode, versionIndex: $0.versionIndex) }
        self.database = other.database
        self.journal = journal
        self.journalTag = journalTag
        self.journalKeep = job?.spec.journal.keep
        self.journalReady = other.journalReady
    }

    /// The same sink, writing the columns of `job` (and journaling its writes when the job is).
    /// - Throws: `BackfillError` `.invalidInput` when the table cannot be journaled.
    public func configured(for job: ResolvedJob) async throws -> SQLiteSink {
        var journal: SQLiteJournalSQL?
        if job.spec.journal.isOn {
            let (table, key, location) = (self.table, job.spec.key, self.location)
            do {
                journal = try await database.read { db in try SQLiteJournalSQL.reading(db, table: table, key: key, location: location) }
            } catch {
                throw SQLiteErrors.map(error, "reading the target's schema", location: location)
            }
        }
        return SQLiteSink(copying: self, job: job, journal: journal, journalTag: nil)
    }

    /// This sink, its journal entries tagged as `run`'s.
    public func forRun(_ run: RunRecord) -> any Sink { tagged(run) }

    public func deleting(for run: RunRecord) -> any DeletingSink { tagged(run) }

    private func tagged(_ run: RunRecord) -> SQLiteSink {
        SQLiteSink(copying: self, job: job, journal: journal, journalTag: run.journalTag)
    }

    /// The journal's recorder for a write: `nil` without a journal.
    /// - Throws: `BackfillError` `.writeFailed` for a journaled write by a sink no run was given to.
    private func recorder(_ what: String) throws -> SQLiteJournalRecorder? {
        guard let journal else { return nil }
        guard let journalTag else { throw BackfillError(.writeFailed, "a journaled \(what) outside a run", location: location) }
        return SQLiteJournalRecorder(sql: journal, tag: journalTag)
    }

    /// Creates the journal if this process has not made sure it exists yet, and deletes the runs
    /// older than `journal.keep` from it, in a transaction of its own before the first write.
    private func prepareJournal() async throws {
        guard let journal, let keep = journalKeep else { return }
        try await journalReady.ensure {
            try await database.write { db in try journal.prepare(db, keep: keep) }
        }
    }

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
                    try Self.apply(rows, db: db, statements: statements, classifier: classifier, keyOrdered: keyOrdered, write: false, journal: nil)
                }
            }
            let journal = try recorder("write")
            try await prepareJournal()
            return try await database.writeWithoutTransaction { db in
                var outcome = WriteOutcome()
                try db.inTransaction(.immediate) {
                    outcome = try Self.apply(
                        rows, db: db, statements: statements, classifier: classifier, keyOrdered: keyOrdered, write: true, journal: journal)
                    return .commit
                }
                return outcome
            }
        } catch {
            throw SQLiteErrors.map(error, "writing a batch", location: location)
        }
    }

    /// Deletes the rows with `keys` (`verify --repair --delete-extra`), in one transaction,
    /// journaling each whole first when the job is journaled.
    /// - Returns: rows deleted.
    public func delete(keys: [[BackfillCore.Value]]) async throws -> Int {
        guard let job else { throw BackfillError(.writeFailed, "the sink was not configured for a job", location: location) }
        let keyColumns = job.keyIndices.map { Identifier.quoted(job.columns[$0]) }
        let match = keyColumns.map { "\($0) = ?" }.joined(separator: " AND ")
        let sql = "DELETE FROM \(Identifier.quoted(table)) WHERE \(match)"
        do {
            let journal = try recorder("delete")
            try await prepareJournal()
            return try await database.write { db in
                var deleted = 0
                for key in keys {
                    _ = try journal?.before("d", key: key, db: db)
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
        _ rows: [[Value]], db: Database, statements: SinkStatements, classifier: RowClassifier, keyOrdered: Bool, write: Bool,
        journal: SQLiteJournalRecorder?
    ) throws -> WriteOutcome {
        let existing = try statements.existingRows(for: rows, db: db, keyOrdered: keyOrdered)
        var outcome = WriteOutcome()
        for row in rows {
            switch classifier.classify(row, existing: existing[statements.key(of: row)]) {
            case .insert:
                if write {
                    try statements.insert(row, db: db)
                    try journal?.inserted(key: statements.key(of: row), db: db)
                }
                outcome.inserted += 1
            case .update:
                if write {
                    let key = statements.key(of: row)
                    let entry = try journal?.before("u", key: key, db: db) ?? nil
                    try statements.update(row, db: db)
                    if let entry { try journal?.after(entry: entry, key: key, db: db) }
                }
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
