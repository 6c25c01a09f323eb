import BackfillCore
import PostgresNIO

/// One PostgreSQL side of a window diff (`WindowHashing`): windows of a table's keys counted,
/// checksummed and hashed inside the server by two SQL expressions — PostgreSQL's own hash
/// between two PostgreSQL tables (`native`), or the canonical row encoding's MD5 across engines
/// (`canonical`, `written(intoSQLite:)`).
public struct PostgresWindowHashing: WindowHashing {
    public var hashesInServer: Bool { true }

    let database: PostgresDatabase
    /// Reads the key columns only.
    let sql: PostgresKeysetSQL
    let info: PostgresTableInfo
    let key: [String]
    /// `bigint` SQL: the hash of a row.
    let rowHash: String
    /// `bigint` SQL: the hash of a row's key, which picks its bucket.
    let keyHash: String
    /// The key is one integer column standing for its own hash: the keys that differ are their
    /// key hashes, and no second scan asks for them.
    let keyIsItsHash: Bool

    init(table: PostgresSource, sql: PostgresKeysetSQL, info: PostgresTableInfo, rowHash: String, keyHash: String, keyIsItsHash: Bool = false) {
        self.database = table.database
        self.sql = sql
        self.info = info
        self.key = table.key
        self.rowHash = rowHash
        self.keyHash = keyHash
        self.keyIsItsHash = keyIsItsHash
    }

    /// Both sides of a job between two PostgreSQL tables, hashed by `hash_record_extended`; `nil`
    /// where their rows cannot be compared by hash (`PostgresHashPair`) or the mode is `update-in-place`.
    public static func native(source: PostgresSource, target: PostgresSink, job: ResolvedJob) async throws -> (
        source: PostgresWindowHashing, target: PostgresWindowHashing
    )? {
        guard job.spec.mode != .updateInPlace, let pair = try await PostgresHashPair.make(source: source, target: target, job: job) else {
            return nil
        }
        let rowHash = pair.sourceInfo.rowHash(of: job.columns)
        // Both tables' key columns have one type: an integer key is its own (bucketing) hash.
        let integerKey = pair.key.count == 1 && pair.sourceInfo.type(of: pair.key[0])?.representation == .integer
        let keyHash = integerKey ? "\(Identifier.quoted(pair.key[0]))::bigint" : pair.sourceInfo.rowHash(of: pair.key, seed: 1)
        let targetTable = PostgresSource(database: target.database, table: target.table, key: source.key)
        return (
            PostgresWindowHashing(
                table: source, sql: pair.sourceSQL, info: pair.sourceInfo, rowHash: rowHash, keyHash: keyHash, keyIsItsHash: integerKey),
            PostgresWindowHashing(
                table: targetTable, sql: pair.targetSQL, info: pair.sourceInfo, rowHash: rowHash, keyHash: keyHash, keyIsItsHash: integerKey)
        )
    }

    /// The target of a job from another engine (SQLite → PostgreSQL): its rows brought to the
    /// canonical form of their own types, as `verify` compares them. `table` reads the job's
    /// columns with text keys in byte order (`VerifySide.comparing`).
    /// - Throws: `Unsupported` naming the column whose type has no canonical form in SQL.
    public static func canonical(_ table: PostgresSource) async throws -> PostgresWindowHashing {
        let info = try await table.tableInfo()
        try await requireCanonicalHashing(on: table.database)
        var tokens: [String] = []
        for column in table.columns {
            let type = info.type(of: column) ?? .text
            guard let token = PostgresCanonicalHashSQL.canonicalToken(column, type: type) else {
                throw Unsupported(reason: "column '\(column)' is \(type.formatted), whose canonical form has no SQL equivalent")
            }
            tokens.append(token)
        }
        return try make(table, info: info, tokens: tokens)
    }

    /// The source of a job into SQLite (PostgreSQL → SQLite): each value as the run writes it into
    /// the target column's affinity (`affinities`, in the order of the source's columns).
    /// - Throws: `Unsupported` naming the column whose conversion has no SQL form.
    public static func written(_ table: PostgresSource, intoSQLite affinities: [ColumnAffinity]) async throws -> PostgresWindowHashing {
        let info = try await table.tableInfo()
        try await requireCanonicalHashing(on: table.database)
        var tokens: [String] = []
        for (column, affinity) in zip(table.columns, affinities) {
            let type = info.type(of: column) ?? .text
            guard let token = PostgresCanonicalHashSQL.writtenToken(column, type: type, into: affinity) else {
                throw Unsupported(reason: "column '\(column)' (\(type.formatted) into a SQLite \(affinity) column) has no exact form in SQL")
            }
            tokens.append(token)
        }
        return try make(table, info: info, tokens: tokens)
    }

    private static func make(_ table: PostgresSource, info: PostgresTableInfo, tokens: [String]) throws -> PostgresWindowHashing {
        let lowered = table.columns.map { $0.lowercased() }
        let keyTokens = table.key.compactMap { lowered.firstIndex(of: $0.lowercased()) }.map { tokens[$0] }
        let full = try table.keysetSQL()
        let sql = PostgresKeysetSQL(
            table: full.table, columns: table.key, key: table.key, keyTypes: full.keyTypes, whereClause: full.whereClause,
            byteOrder: full.byteOrder)
        return PostgresWindowHashing(
            table: table, sql: sql, info: info, rowHash: PostgresCanonicalHashSQL.hash(prefix: "R", tokens: tokens),
            keyHash: PostgresCanonicalHashSQL.hash(prefix: "K", tokens: keyTokens))
    }

    /// MD5 must see the bytes SQLite sees (UTF-8), and `trim_scale` needs PostgreSQL 13.
    private static func requireCanonicalHashing(on database: PostgresDatabase) async throws {
        let rows = try await database.textRows(
            "SELECT current_setting('server_encoding'), current_setting('server_version_num')", "checking the server for canonical hashing")
        guard let row = rows.first, row.count == 2 else { throw Unsupported(reason: "the server did not say its encoding and version") }
        // SQL_ASCII keeps the bytes it was sent (UTF-8 here) as they are.
        guard row[0] == "UTF8" || row[0] == "SQL_ASCII" else {
            throw Unsupported(reason: "the database's encoding is \(row[0] ?? "unknown"), not UTF8")
        }
        guard let version = row[1].flatMap({ Int($0) }), version >= 130_000 else {
            throw Unsupported(reason: "PostgreSQL before 13 has no trim_scale")
        }
    }

    /// Why rows cannot be hashed alike across engines here.
    public struct Unsupported: Error, Sendable {
        public var reason: String
    }

    public func windowBounds(in range: KeyRange, after cursor: [BackfillCore.Value]?, limit: Int) async throws -> WindowBounds {
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range, after: cursor, binds: &binds)
        let from = "SELECT \(sql.keyTextList) FROM \(sql.quotedTable)\(filter)"
        let rows = try await database.textRows(
            PostgresQuery(unsafeSQL: "\(from) ORDER BY \(sql.orderBy) OFFSET \(max(0, limit - 1)) LIMIT 2", binds: binds),
            "finding a batch's bounds")
        if let first = rows.first {
            return WindowBounds(last: info.values(fromText: first, of: key), next: rows.count > 1 ? info.values(fromText: rows[1], of: key) : nil)
        }
        // Fewer than `limit` rows are left: the window is the rest of the range.
        let lastRows = try await database.textRows(
            PostgresQuery(unsafeSQL: "\(from) ORDER BY \(sql.orderByDescending) LIMIT 1", binds: binds), "finding a batch's bounds")
        return WindowBounds(last: lastRows.first.map { info.values(fromText: $0, of: key) }, next: nil)
    }

    public func bucketDigests(in window: KeyRange, after cursor: [BackfillCore.Value]?, buckets: Int) async throws -> [Int64: TableDigest] {
        var binds = PostgresBindings()
        let filter = sql.conditions(range: window, after: cursor, binds: &binds)
        // One bucket (a whole chunk compared at once): every row is in bucket 0, no key is hashed.
        let bucket = buckets <= 1 ? "0" : "(\(keyHash) % \(buckets))"
        let rows = try await database.textRows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(bucket)::text, count(*)::text, \(PostgresSource.foldedSum(rowHash))
                    FROM \(sql.quotedTable)\(filter) GROUP BY 1
                    """,
                binds: binds),
            "comparing a batch by buckets")
        var digests: [Int64: TableDigest] = [:]
        for row in rows {
            guard row.count == 3, let bucket = row[0].flatMap({ Int64($0) }), let count = row[1].flatMap({ Int($0) }),
                let sum = row[2].flatMap({ UInt64($0) })
            else { continue }
            digests[bucket] = TableDigest(count: count, sum: sum)
        }
        return digests
    }

    /// Ships the two numbers of each row packed (`PostgresPackedPairs`), in no particular order.
    public func rowHashes(in window: KeyRange, after cursor: [BackfillCore.Value]?, buckets: Int, among: [Int64]) async throws -> [RowHash] {
        var binds = PostgresBindings()
        var filter = sql.conditions(range: window, after: cursor, binds: &binds)
        // With one bucket it holds every row: no filter, so each key is hashed once.
        if buckets > 1 {
            binds.append(among)
            filter += (filter.isEmpty ? " WHERE " : " AND ") + "(\(keyHash) % \(buckets)) = ANY($\(binds.count))"
        } else if !among.contains(0) {
            return []
        }
        let query = PostgresQuery(
            unsafeSQL: "SELECT \(PostgresPackedPairs.aggregate(keyHash, rowHash)) FROM \(sql.quotedTable)\(filter)", binds: binds)
        return try await PostgresPackedPairs.read(query, on: database, "comparing a batch by key").map { keyHash, hash in
            RowHash(key: nil, keyHash: keyHash, hash: hash)
        }
    }

    /// The keys of `rows`: read by one more scan of the window (keys only, hashed again inside the
    /// server) unless the key is its own hash.
    public func keys(of rows: [RowHash], in window: KeyRange, after cursor: [BackfillCore.Value]?) async throws -> [[BackfillCore.Value]] {
        guard !rows.isEmpty else { return [] }
        if keyIsItsHash { return rows.map { Int64(bitPattern: $0.keyHash) }.sorted().map { [.integer($0)] } }
        var binds = PostgresBindings()
        var filter = sql.conditions(range: window, after: cursor, binds: &binds)
        binds.append(rows.map { Int64(bitPattern: $0.keyHash) })
        filter += (filter.isEmpty ? " WHERE " : " AND ") + "(\(keyHash)) = ANY($\(binds.count))"
        let found = try await database.textRows(
            PostgresQuery(unsafeSQL: "SELECT \(sql.keyTextList) FROM \(sql.quotedTable)\(filter) ORDER BY \(sql.orderBy)", binds: binds),
            "reading the keys of a batch's differing rows")
        return found.map { info.values(fromText: $0, of: key) }
    }
}
