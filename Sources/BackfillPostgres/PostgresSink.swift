import BackfillCore
import Foundation
import PostgresNIO

/// A PostgreSQL table written idempotently, one short transaction per batch:
/// `COPY` the batch into a temporary staging table, then one merge statement that drops
/// unchanged rows and inserts or updates the rest (`PostgresMergeSQL`).
///
/// Every connection runs with `lock_timeout` and `statement_timeout` (`PostgresTimeouts`), so a
/// hot row or a stuck lock costs a retry, never an outage; no statement takes a table lock.
public struct PostgresSink: DeletingSink {
    public let database: PostgresDatabase
    public let table: String
    private let merge: (any PostgresBatchSQL)?
    private let key: [String]
    private let keyTypes: [String]
    /// Where the key's values are in a written row.
    private let keyIndices: [Int]
    /// The journal (`journal:`), and the tag of the run whose writes it records (`RunRecord.journalTag`).
    private let journal: PostgresJournalSQL?
    private let journalTag: String?
    /// How long the journal keeps a run's entries (`journal.keep`).
    private let journalKeep: Double?
    /// Shared by the sink's copies (one per run): whether this process has made sure the journal exists.
    private let journalReady: JournalReady

    /// A sink over `table`; call `configured(for:)` before writing.
    public init(database: PostgresDatabase, table: String) {
        self.database = database
        self.table = table
        self.merge = nil
        self.key = []
        self.keyTypes = []
        self.keyIndices = []
        self.journal = nil
        self.journalTag = nil
        self.journalKeep = nil
        self.journalReady = JournalReady()
    }

    private init(
        copying other: PostgresSink, merge: (any PostgresBatchSQL)?, key: [String], keyTypes: [String], keyIndices: [Int],
        journal: PostgresJournalSQL?, journalTag: String?, journalKeep: Double?
    ) {
        self.database = other.database
        self.table = other.table
        self.merge = merge
        self.key = key
        self.keyTypes = keyTypes
        self.keyIndices = keyIndices
        self.journal = journal
        self.journalTag = journalTag
        self.journalKeep = journalKeep
        self.journalReady = other.journalReady
    }

    public func forRun(_ run: RunRecord) -> any Sink { tagged(run) }

    public func deleting(for run: RunRecord) -> any DeletingSink { tagged(run) }

    /// This sink, its journal entries tagged as `run`'s.
    func tagged(_ run: RunRecord) -> PostgresSink {
        PostgresSink(
            copying: self, merge: merge, key: key, keyTypes: keyTypes, keyIndices: keyIndices, journal: journal,
            journalTag: run.journalTag, journalKeep: journalKeep)
    }

    /// The same sink, writing the columns of `job` (or, for `update-in-place`, its `set:` columns
    /// for the keys it is given).
    public func configured(for job: ResolvedJob) async throws -> PostgresSink {
        let info = try await tableInfo()
        let key = job.keyIndices.map { job.columns[$0] }
        let keyTypes = info.castTypes(of: key)
        let textCompared = Set(info.types.filter { !$0.value.hashesNatively }.keys)
        let journal = try job.spec.journal.isOn ? PostgresJournalSQL(table: table, info: info, key: key, location: location) : nil
        let statements: any PostgresBatchSQL = job.spec.mode == .updateInPlace
            ? PostgresInPlaceSQL(table: table, key: key, set: job.spec.set, textCompared: textCompared, journal: journal)
            : PostgresMergeSQL(table: table, job: job, textCompared: textCompared, journal: journal)
        return PostgresSink(
            copying: self, merge: statements, key: key, keyTypes: keyTypes, keyIndices: job.keyIndices, journal: journal,
            journalTag: nil, journalKeep: job.spec.journal.keep)
    }

    /// Creates the journal table if this process has not made sure it exists yet, and deletes the
    /// runs older than `journal.keep` from it, in a transaction of its own before a batch's (a dry
    /// run creates nothing).
    func prepareJournal() async throws {
        guard let journal, let keep = journalKeep else { return }
        try await journalReady.ensure {
            try await database.transaction("creating the journal") { connection in
                for statement in journal.create + [journal.prune(keep: keep)] {
                    try await connection.checkedQuery(PostgresQuery(unsafeSQL: statement), logger: database.logger)
                }
            }
        }
    }

    /// The bind of the journal's tag: `nil` without a journal.
    /// - Throws: `BackfillError` `.writeFailed` for a journaled write by a sink no run was given to.
    private func journalBind(_ what: String) throws -> String? {
        guard journal != nil else { return nil }
        guard let journalTag else { throw BackfillError(.writeFailed, "a journaled \(what) outside a run", location: location) }
        return journalTag
    }

    var location: String { "\(database.dsn) table \(table)" }

    /// The table's key columns, for probing and deleting by key.
    private var keySQL: PostgresKeysetSQL { PostgresKeysetSQL(table: table, columns: key, key: key, keyTypes: keyTypes, whereClause: nil) }

    /// Columns, types and unique keys of the table.
    public func tableInfo() async throws -> PostgresTableInfo { try await PostgresCatalog.describe(table, in: database) }

    public func describe() async throws -> TableDescription { try await tableInfo().description }

    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        guard !rows.isEmpty else { return WriteOutcome() }
        if !dryRun { try await prepareJournal() }
        return try await database.transaction("writing a batch", commit: !dryRun) { connection in
            try await self.merge(rows, preview: dryRun, on: connection)
        }
    }

    /// `COPY`s `rows` into the staging table and merges them into the table, inside the caller's
    /// transaction on `connection`; with `preview`, only counts what the merge would do. A batch
    /// the target holds none of (a gap, a first load) is `COPY`ed straight into the table instead.
    func merge(_ rows: [[Value]], preview: Bool, on connection: PostgresConnection) async throws -> WriteOutcome {
        guard let merge else { throw BackfillError(.writeFailed, "the sink was not configured for a job", location: location) }
        var binds = PostgresBindings()
        if !preview, let tag = try journalBind("write") { binds.append(tag) }
        var buffer = ByteBufferAllocator().buffer(capacity: rows.count * 128)
        CopyTextEncoder.encode(rows, into: &buffer)
        let payload = buffer
        let logger = database.logger
        if !preview, let direct = merge as? PostgresMergeSQL, direct.insertsAbsentRows,
            try await copyAbsent(rows, payload, into: direct.copyTarget, on: connection)
        {
            return WriteOutcome(inserted: rows.count)
        }
        try await connection.checkedQuery(PostgresQuery(unsafeSQL: merge.createStage), logger: logger)
        try await connection.checkedCopyFrom(table: merge.stage, logger: logger) { writer in try await writer.write(payload) }
        let result = try await PostgresDatabase.textRows(
            PostgresQuery(unsafeSQL: preview ? merge.preview : merge.merge, binds: binds), on: connection, logger: logger)
        let counts = (result.first ?? []).map { $0.flatMap(Int.init) ?? 0 }
        guard counts.count == 4 else { throw BackfillError(.writeFailed, "the merge returned no counts", location: location) }
        let (staged, differing, inserted, updated) = (counts[0], counts[1], counts[2], counts[3])
        return WriteOutcome(inserted: inserted, updated: updated, unchanged: staged - differing, skipped: differing - inserted - updated)
    }

    /// `COPY`s `rows` straight into the table when it holds no key between the batch's first and
    /// last (one probe of the key index): about twice as fast as staging and merging them. A row
    /// the probe missed — written meanwhile by live traffic, or outside the range in the column's
    /// collation — fails the `COPY` on the key's unique index; it is then undone to a savepoint and
    /// the batch merged as usual.
    /// - Returns: whether the rows were written.
    /// With a journal, the rows' entries are written in the same savepoint.
    private func copyAbsent(
        _ rows: [[Value]], _ payload: ByteBuffer, into target: (table: String, columns: [String]), on connection: PostgresConnection
    ) async throws -> Bool {
        guard rows.count >= Self.directCopyRows else { return false }
        let sql = keySQL
        let keys = rows.map { row in keyIndices.map { row[$0] } }
        var first = keys[0], last = keys[0]
        for key in keys.dropFirst() {
            if KeyOrder.compare(key, first) < 0 { first = key }
            if KeyOrder.compare(key, last) > 0 { last = key }
        }
        var binds = PostgresBindings()
        let lower = sql.keyValues(first, binds: &binds)
        let upper = sql.keyValues(last, binds: &binds)
        let logger = database.logger
        let probe = PostgresQuery(
            unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(sql.quotedTable) WHERE \(sql.keyTuple) >= \(lower) AND \(sql.keyTuple) <= \(upper))::text",
            binds: binds)
        guard try await PostgresDatabase.textRows(probe, on: connection, logger: logger).first?.first == "false" else { return false }
        try await connection.checkedQuery("SAVEPOINT backfill_direct_copy", logger: logger)
        do {
            try await connection.checkedCopyFrom(table: target.table, columns: target.columns, logger: logger) { writer in try await writer.write(payload) }
            if let journal, let journalTag, try await !journalCopied(rows.count, first: first, last: last, journal, journalTag, on: connection) {
                // Some of the batch's keys lie outside its lowest and highest in the column's
                // collation (text keys of a locale that does not sort by bytes): merged instead,
                // and journaled row by row.
                try await connection.checkedQuery("ROLLBACK TO SAVEPOINT backfill_direct_copy", logger: logger)
                return false
            }
        } catch let error as PSQLError where ["23505", "0A000"].contains(error.serverInfo?[.sqlState]) {
            // A key the probe did not see (23505), or COPY refused by row-level security (0A000).
            try await connection.checkedQuery("ROLLBACK TO SAVEPOINT backfill_direct_copy", logger: logger)
            return false
        }
        try await connection.checkedQuery("RELEASE SAVEPOINT backfill_direct_copy", logger: logger)
        return true
    }

    /// Journals a batch of `count` rows `COPY`ed straight into the table, whose lowest and highest
    /// keys are `first` and `last`: one `c` entry, or with a key of several columns an entry per row
    /// (`PostgresJournalSQL`).
    /// - Returns: whether it was: the key range holds exactly the batch's rows.
    private func journalCopied(
        _ count: Int, first: [Value], last: [Value], _ journal: PostgresJournalSQL, _ tag: String, on connection: PostgresConnection
    ) async throws -> Bool {
        let sql = keySQL
        var binds = PostgresBindings()
        binds.append(tag)
        let lower = sql.keyValues(first, binds: &binds), upper = sql.keyValues(last, binds: &binds)
        if journal.journalsCopiesByBatch {
            let query = PostgresQuery(unsafeSQL: journal.copiedBatch(keyTuple: sql.keyTuple, first: lower, last: upper, rows: count), binds: binds)
            return try await !PostgresDatabase.textRows(query, on: connection, logger: database.logger).isEmpty
        }
        let query = PostgresQuery(unsafeSQL: journal.copied(keyTuple: sql.keyTuple, lower: lower, upper: upper), binds: binds)
        return try await PostgresDatabase.textRows(query, on: connection, logger: database.logger).first?[0] == String(count)
    }

    /// Batches smaller than this are merged: a probe costs a round trip.
    static let directCopyRows = 64

    /// Deletes the rows with `keys` (`verify --repair --delete-extra`), in one transaction.
    /// - Returns: rows deleted.
    /// With a journal, each deleted row is journaled (`d`, the whole row) by the deleting statement,
    /// under the run the sink was tagged with (`deleting(for:)`).
    public func delete(keys: [[Value]]) async throws -> Int {
        guard merge != nil else { throw BackfillError(.writeFailed, "the sink was not configured for a job", location: location) }
        let tag = try journalBind("delete")
        if tag != nil { try await prepareJournal() }
        let sql = keySQL
        let logger = database.logger
        var deleted = 0
        for start in stride(from: 0, to: keys.count, by: 500) {
            var binds = PostgresBindings()
            if let tag { binds.append(tag) }
            let list = keys[start..<min(start + 500, keys.count)].map { sql.keyValues($0, binds: &binds) }.joined(separator: ", ")
            let logged = journal.map { ", " + $0.deleted(from: "d") } ?? ""
            let query = PostgresQuery(
                unsafeSQL: """
                    WITH d AS (DELETE FROM \(sql.quotedTable) WHERE \(sql.keyTuple) IN (\(list)) RETURNING *)\(logged)
                    SELECT count(*)::text FROM d
                    """,
                binds: binds)
            deleted += try await database.transaction("deleting extra rows") { connection in
                try await PostgresDatabase.textRows(query, on: connection, logger: logger).first?[0].flatMap(Int.init) ?? 0
            }
        }
        return deleted
    }
}
