import BackfillCore
import Foundation

/// A MySQL or MariaDB table, written idempotently: only rows that differ are touched.
///
/// Each batch is one short transaction: it locks the target's rows for the batch's keys
/// (`SELECT … FOR UPDATE`; keys in a case- or accent-insensitive collation are paired with the
/// incoming rows by the server, as its unique index pairs them), compares every row by its
/// columns' canonical kinds (the comparison `verify` makes: a DECIMAL's `1.50` equals `1.5`), and
/// writes only what differs: new rows with a plain `INSERT` (so a row that collides on another
/// unique index is refused and quarantined, never merged into another row; a key a live writer
/// inserted meanwhile is a conflict, and the batch is read again), changed rows with one `INSERT …
/// ON DUPLICATE KEY UPDATE` when the job's key is the table's only unique index, else one `UPDATE`
/// per row. The locked rows cannot change before the write, so `newer-wins` and the modes decide
/// on what is there; the counts are what the server changed.
public struct MySQLSink: DeletingSink {
    public let database: MySQLDatabase
    public let table: String
    private let plan: WritePlan?

    /// What a configured sink writes: the job's columns, their types, and how keys are paired.
    struct WritePlan: Sendable {
        let columns: [String]
        let keyIndices: [Int]
        /// Each row's action, its columns compared in their canonical form.
        let classifier: RowClassifier
        let kinds: [CanonicalKind]
        let types: [MySQLColumnType]
        let keyset: MySQLKeysetSQL
        /// The unique index on the job's key (`PRIMARY`, …).
        let keyIndexName: String?
        /// Whether another unique index exists (then changed rows are updated one by one).
        let otherUniqueIndexes: Bool
        /// Whether a key column's collation may pair other bytes (then the server pairs keys).
        let serverPairsKeys: Bool
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
        let keyTypes = info.types(of: key)
        let keyIndexName = info.indexName(of: key)
        let kinds = types.map(\.canonicalKind)
        return MySQLSink(
            copying: self,
            plan: WritePlan(
                columns: job.columns, keyIndices: job.keyIndices,
                classifier: RowClassifier(mode: job.spec.mode, versionIndex: job.versionIndex, kinds: kinds), kinds: kinds, types: types,
                keyset: MySQLKeysetSQL(table: table, columns: job.columns, key: key, keyTypes: keyTypes, whereClause: nil, columnTypes: types),
                keyIndexName: keyIndexName, otherUniqueIndexes: info.uniqueIndexes.contains { $0.name != keyIndexName },
                serverPairsKeys: keyTypes.contains(where: \.matchesLoosely)))
    }

    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        guard let plan else { throw BackfillError(.writeFailed, "the sink was not configured for a job", location: location) }
        guard !rows.isEmpty else { return WriteOutcome() }
        let lookup = try Self.lookup(rows, plan: plan)
        if dryRun {
            let found = try await database.rows(lookup, "reading the target's rows")
            return Self.classify(rows, current: Self.paired(rows, found, plan: plan), plan: plan).planned
        }
        let statements = Self.Statements(plan: plan)
        do {
            return try await database.transaction("writing a batch") { connection in
                let found = try connection.rows(lookup + " FOR UPDATE")
                let classified = Self.classify(rows, current: Self.paired(rows, found, plan: plan), plan: plan)
                var outcome = classified.outcome
                outcome.inserted = try statements.insert(classified.inserts, on: connection)
                let changed = try statements.update(classified.updates, on: connection)
                outcome.updated = changed
                // Rows the comparison found different but the server stored as they were.
                outcome.unchanged += classified.updates.count - changed
                return outcome
            }
        } catch let error as BackfillError {
            if let server = error.underlying as? MySQLServerError, server.number == 1062, !plan.serverPairsKeys,
                let name = plan.keyIndexName, server.message.hasSuffix("for key '\(name)'") || server.message.hasSuffix(".\(name)'")
            {
                // A live writer inserted one of the batch's keys after the lock found none: read it again.
                throw BackfillError(
                    .unavailable, kind: .transient, "writing a batch: a key of the batch was inserted meanwhile; the batch is compared again",
                    location: location, underlying: error)
            }
            throw error
        }
    }

    /// The target's rows for the batch's keys; where the server pairs keys, each prefixed by the
    /// position of the incoming row it pairs with.
    static func lookup(_ rows: [[Value]], plan: WritePlan) throws -> String {
        let keys = rows.map { row in plan.keyIndices.map { row[$0] } }
        let keyset = plan.keyset
        let filter = " FROM \(keyset.quotedTable) WHERE \(try keyset.keyIn(keys))"
        guard plan.serverPairsKeys else { return "SELECT \(keyset.selectList)" + filter }
        let cases = try keys.enumerated().map { "WHEN \(try keyset.keyEquals($1)) THEN \($0)" }.joined(separator: " ")
        return "SELECT CASE \(cases) END, \(keyset.selectList)" + filter
    }

    /// The current row of each incoming row (`nil`: none).
    static func paired(_ rows: [[Value]], _ found: [[[UInt8]?]], plan: WritePlan) -> [[Value]?] {
        var current = [[Value]?](repeating: nil, count: rows.count)
        if plan.serverPairsKeys {
            for cells in found {
                guard let position = MySQLTableInfo.number(cells[0]) as Int?, current.indices.contains(position) else { continue }
                current[position] = MySQLTableInfo.values(Array(cells.dropFirst()), types: plan.types)
            }
            return current
        }
        func key(_ row: [Value]) -> [Value] { plan.keyIndices.map { plan.kinds[$0].canonical(row[$0]) } }
        var positions: [[Value]: Int] = [:]
        for (position, row) in rows.enumerated() { positions[key(row)] = position }
        for cells in found {
            let row = MySQLTableInfo.values(cells, types: plan.types)
            if let position = positions[key(row)] { current[position] = row }
        }
        return current
    }

    /// What a batch does, row by row: rows to insert, rows to update (with their current row),
    /// and the counts of the rest.
    struct Classified: Sendable {
        var outcome = WriteOutcome()
        var inserts: [[Value]] = []
        var updates: [(row: [Value], current: [Value])] = []

        /// The counts as planned (a dry run).
        var planned: WriteOutcome {
            var planned = outcome
            planned.inserted = inserts.count
            planned.updated = updates.count
            return planned
        }
    }

    static func classify(_ rows: [[Value]], current: [[Value]?], plan: WritePlan) -> Classified {
        var result = Classified()
        for (row, existing) in zip(rows, current) {
            switch plan.classifier.classify(row, existing: existing) {
            case .insert: result.inserts.append(row)
            case .update: if let existing { result.updates.append((row, existing)) }  // only a row that exists is updated
            case .unchanged: result.outcome.unchanged += 1
            case .skip: result.outcome.skipped += 1
            }
        }
        return result
    }

    /// The batch's writes, each statement within the server's `max_allowed_packet`.
    struct Statements: Sendable {
        let plan: WritePlan
        let insertPrefix: String
        let upsertSuffix: String

        init(plan: WritePlan) {
            self.plan = plan
            let quoted = plan.columns.map(MySQLSQL.quoted)
            insertPrefix = "INSERT INTO \(plan.keyset.quotedTable) (\(quoted.joined(separator: ", "))) VALUES "
            // Key columns too: a key the collation paired with other bytes takes the source's.
            upsertSuffix = " ON DUPLICATE KEY UPDATE " + quoted.map { "\($0) = VALUES(\($0))" }.joined(separator: ", ")
        }

        private func tuple(_ row: [Value]) throws -> String {
            "(" + (try row.indices.map { try MySQLSQL.literal(row[$0], for: plan.types[$0]) }).joined(separator: ", ") + ")"
        }

        /// Runs `prefix + tuples + suffix` in as few statements as fit the packet limit; returns
        /// the rows they affected.
        private func run(_ rows: [[Value]], prefix: String, suffix: String, on connection: MySQLConnection) throws -> Int {
            let limit = connection.maxStatementBytes - prefix.utf8.count - suffix.utf8.count
            var affected = 0
            var pending: [String] = []
            var size = 0
            func flush() throws {
                guard !pending.isEmpty else { return }
                affected += Int(try connection.execute(prefix + pending.joined(separator: ", ") + suffix))
                pending.removeAll(keepingCapacity: true)
                size = 0
            }
            for row in rows {
                let values = try tuple(row)
                guard values.utf8.count <= limit else {
                    throw BackfillError(
                        .writeFailed, kind: .data,
                        "a row of \(values.utf8.count / 2) bytes does not fit the server's max_allowed_packet (\(connection.maxStatementBytes) bytes)")
                }
                if size + values.utf8.count + 2 > limit { try flush() }
                pending.append(values)
                size += values.utf8.count + 2
            }
            try flush()
            return affected
        }

        /// Inserts new rows; returns how many.
        func insert(_ rows: [[Value]], on connection: MySQLConnection) throws -> Int {
            try run(rows, prefix: insertPrefix, suffix: "", on: connection)
        }

        /// Updates rows that exist (locked); returns how many the server changed.
        func update(_ rows: [(row: [Value], current: [Value])], on connection: MySQLConnection) throws -> Int {
            guard !rows.isEmpty else { return 0 }
            guard plan.otherUniqueIndexes else {
                // 2 affected rows per row changed, 0 per row left as it was.
                return try run(rows.map(\.row), prefix: insertPrefix, suffix: upsertSuffix, on: connection) / 2
            }
            var changed = 0
            for (row, current) in rows {
                let assignments = try plan.columns.indices.map {
                    "\(MySQLSQL.quoted(plan.columns[$0])) = \(try MySQLSQL.literal(row[$0], for: plan.types[$0]))"
                }
                let key = try plan.keyset.keyEquals(plan.keyIndices.map { current[$0] })
                changed += Int(
                    try connection.execute("UPDATE \(plan.keyset.quotedTable) SET \(assignments.joined(separator: ", ")) WHERE \(key)"))
            }
            return changed
        }
    }

    public func delete(keys: [[Value]]) async throws -> Int {
        guard let plan else { throw BackfillError(.writeFailed, "the sink was not configured for a job", location: location) }
        guard !keys.isEmpty else { return 0 }
        let statement = "DELETE FROM \(plan.keyset.quotedTable) WHERE \(try plan.keyset.keyIn(keys))"
        return try await database.transaction("deleting rows") { Int(try $0.execute(statement)) }
    }
}
