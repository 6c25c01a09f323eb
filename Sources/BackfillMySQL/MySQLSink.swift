import BackfillCore
import Foundation

/// A MySQL or MariaDB table, written idempotently: only rows that differ are touched.
///
/// Each batch is one short transaction: it locks the target's rows for the batch's keys
/// (`SELECT … FOR UPDATE`), compares every row by its columns' canonical kinds (the comparison
/// `verify` makes: a DECIMAL's `1.50` equals `1.5`), and sends only the rows to insert or update
/// in one `INSERT … ON DUPLICATE KEY UPDATE`. The statement guards itself too (`newer-wins` keeps
/// a newer row a live writer inserted after the lock; `insert-missing` changes nothing), and the
/// counts come from what the server did (`mysql_info` and the affected rows), so they stay exact
/// when live traffic races the batch.
public struct MySQLSink: DeletingSink {
    public let database: MySQLDatabase
    public let table: String
    private let plan: WritePlan?

    /// What a configured sink writes: the job's columns, their types, and the statement's parts.
    struct WritePlan: Sendable {
        let columns: [String]
        let keyIndices: [Int]
        let versionIndex: Int?
        let mode: WriteMode
        let kinds: [CanonicalKind]
        let types: [MySQLColumnType]
        let keyset: MySQLKeysetSQL
    }

    /// A sink for `table`; `configured(for:)` names the job's columns.
    public init(database: MySQLDatabase, table: String) {
        self.database = database
        self.table = table
        self.plan = nil
    }

    private init(copying other: MySQLSink, plan: WritePlan) {
        self.database = other.database
        self.table = other.table
        self.plan = plan
    }

    private var location: String { "\(database.location) table \(table)" }

    public func describe() async throws -> TableDescription { try await MySQLTableInfo.read(table, in: database).description }

    /// The same sink, writing the columns of `job`.
    /// - Throws: `BackfillError` `.invalidSpec` for a mode MySQL targets do not support yet.
    public func configured(for job: ResolvedJob) async throws -> MySQLSink {
        guard job.spec.mode != .updateInPlace else {
            throw BackfillError(.invalidSpec, "mode update-in-place is not supported on a MySQL target yet", location: "mode")
        }
        guard !job.spec.journal.isOn else {
            throw BackfillError(.invalidSpec, "journal: is not supported on a MySQL target yet", location: "journal")
        }
        let info = try await MySQLTableInfo.read(table, in: database)
        let types = info.types(of: job.columns)
        let key = job.keyIndices.map { job.columns[$0] }
        let keyset = MySQLKeysetSQL(
            table: table, columns: job.columns, key: key, keyAsBytes: info.types(of: key).map { !$0.ordersByBytes }, whereClause: nil)
        return MySQLSink(
            copying: self,
            plan: WritePlan(
                columns: job.columns, keyIndices: job.keyIndices, versionIndex: job.versionIndex, mode: job.spec.mode,
                kinds: types.map(\.canonicalKind), types: types, keyset: keyset))
    }

    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        guard let plan else { throw BackfillError(.writeFailed, "the sink was not configured for a job", location: location) }
        guard !rows.isEmpty else { return WriteOutcome() }
        let keys = rows.map { row in plan.keyIndices.map { row[$0] } }
        let select = "SELECT \(plan.keyset.selectList) FROM \(plan.keyset.quotedTable) WHERE \(try plan.keyset.keyIn(keys))"
        if dryRun {
            let existing = try await database.rows(select, "reading the target's rows").map { MySQLTableInfo.values($0, types: plan.types) }
            return Self.classify(rows, existing: existing, plan: plan).outcome
        }
        let insert = try Self.upsertPrefix(plan)
        return try await database.transaction("writing a batch") { connection in
            let existing = try connection.rows(select + " FOR UPDATE").map { MySQLTableInfo.values($0, types: plan.types) }
            let classified = Self.classify(rows, existing: existing, plan: plan)
            guard !classified.toWrite.isEmpty else { return classified.outcome }
            let values = try classified.toWrite.map { row in "(" + (try row.map(MySQLSQL.literal)).joined(separator: ", ") + ")" }
            let affected = Int(try connection.execute(insert.statement + values.joined(separator: ", ") + insert.onDuplicate))
            return Self.counted(classified, affected: affected, info: connection.info, plan: plan)
        }
    }

    /// What a batch would do, row by row, before the statement runs.
    struct Classified: Sendable {
        var outcome = WriteOutcome()
        var toWrite: [[Value]] = []
        var inserts = 0
        var updates = 0
    }

    static func classify(_ rows: [[Value]], existing: [[Value]], plan: WritePlan) -> Classified {
        var byKey: [[Value]: [Value]] = [:]
        for row in existing { byKey[plan.keyIndices.map { row[$0] }] = row }
        var result = Classified()
        for row in rows {
            guard let current = byKey[plan.keyIndices.map { row[$0] }] else {
                if plan.mode == .updateExisting {
                    result.outcome.skipped += 1
                } else {
                    result.toWrite.append(row)
                    result.inserts += 1
                }
                continue
            }
            if equal(row, current, kinds: plan.kinds) {
                result.outcome.unchanged += 1
            } else if plan.mode == .insertMissing {
                result.outcome.skipped += 1
            } else if let version = plan.versionIndex,
                Value.compare(plan.kinds[version].canonical(current[version]), plan.kinds[version].canonical(row[version])) > 0
            {
                result.outcome.skipped += 1
            } else {
                result.toWrite.append(row)
                result.updates += 1
            }
        }
        return result
    }

    /// Whether two rows hold the same values, column by column, in their canonical form.
    static func equal(_ a: [Value], _ b: [Value], kinds: [CanonicalKind]) -> Bool {
        for index in a.indices where !kinds[index].canonical(a[index]).isSameStoredValue(as: kinds[index].canonical(b[index])) {
            return false
        }
        return true
    }

    /// The counts from what the server did: `Records: N  Duplicates: D` and the affected rows
    /// (1 per row inserted, 2 per row changed, 0 per row left as it was). A row the batch meant to
    /// insert that a live writer inserted first is an update (or skipped, when the statement's
    /// guard kept the newer row).
    static func counted(_ classified: Classified, affected: Int, info: String?, plan: WritePlan) -> WriteOutcome {
        var outcome = classified.outcome
        guard affected != classified.inserts + 2 * classified.updates, let info,
            let records = number(after: "Records:", in: info), let duplicates = number(after: "Duplicates:", in: info)
        else {
            outcome.inserted += classified.inserts
            outcome.updated += classified.updates
            return outcome
        }
        let inserted = records - duplicates
        let updated = max(0, (affected - inserted) / 2)
        let untouched = max(0, duplicates - updated)
        outcome.inserted += inserted
        outcome.updated += updated
        if plan.mode == .upsert && plan.versionIndex == nil { outcome.unchanged += untouched } else { outcome.skipped += untouched }
        return outcome
    }

    private static func number(after label: String, in info: String) -> Int? {
        guard let range = info.range(of: label) else { return nil }
        return Int(info[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber })
    }

    /// `INSERT INTO t (…) VALUES ` and its ` ON DUPLICATE KEY UPDATE …`: every other column set
    /// from the new row (`newer-wins`: only where the target's version is not newer, the version
    /// column last, as MySQL assigns left to right); `insert-missing` changes nothing.
    static func upsertPrefix(_ plan: WritePlan) throws -> (statement: String, onDuplicate: String) {
        let quotedColumns = plan.columns.map(MySQLSQL.quoted)
        let statement = "INSERT INTO \(plan.keyset.quotedTable) (\(quotedColumns.joined(separator: ", "))) VALUES "
        let firstKey = quotedColumns[plan.keyIndices[0]]
        var others = plan.columns.indices.filter { !plan.keyIndices.contains($0) }
        guard plan.mode != .insertMissing, !others.isEmpty else {
            return (statement, " ON DUPLICATE KEY UPDATE \(firstKey) = \(firstKey)")
        }
        if let version = plan.versionIndex, let at = others.firstIndex(of: version) {
            others.remove(at: at)
            others.append(version)
        }
        let assignments = others.map { index -> String in
            let column = quotedColumns[index]
            guard let version = plan.versionIndex else { return "\(column) = VALUES(\(column))" }
            let versionColumn = quotedColumns[version]
            return "\(column) = IF(\(versionColumn) > VALUES(\(versionColumn)), \(column), VALUES(\(column)))"
        }
        return (statement, " ON DUPLICATE KEY UPDATE " + assignments.joined(separator: ", "))
    }

    public func delete(keys: [[Value]]) async throws -> Int {
        guard let plan else { throw BackfillError(.writeFailed, "the sink was not configured for a job", location: location) }
        guard !keys.isEmpty else { return 0 }
        let statement = "DELETE FROM \(plan.keyset.quotedTable) WHERE \(try plan.keyset.keyIn(keys))"
        return try await database.transaction("deleting rows") { Int(try $0.execute(statement)) }
    }
}
