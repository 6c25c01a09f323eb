import BackfillCore
import GRDB

extension SQLiteSource: QueryableTable {
    public func digest(_ range: KeyRange) async throws -> TableDigest {
        let sql = keysetSQL
        let (conditions, arguments) = sql.conditions(range: range, after: nil)
        let (count, sum) = try await readVerifying { db -> (Int, Int64) in
            let row = try Row.fetchOne(
                db, sql: "SELECT count(*), backfill_digest(\(sql.selectList)) FROM \(sql.quotedTable)\(conditions)",
                arguments: StatementArguments(values: arguments))
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
        return TableDigest(count: count, sum: UInt64(bitPattern: sum))
    }

    public var hashesRows: Bool { true }

    public func keyHashes(in range: KeyRange, after key: [BackfillCore.Value]?, limit: Int) async throws -> [KeyHash]? {
        let sql = keysetSQL
        let keyList = self.key.map(Identifier.quoted).joined(separator: ", ")
        let (conditions, arguments) = sql.conditions(range: range, after: key)
        let keyCount = self.key.count
        return try await readVerifying { db in
            let statement = try db.cachedStatement(
                sql: "SELECT \(keyList), backfill_row_hash(\(sql.selectList)) FROM \(sql.quotedTable)\(conditions)\(sql.orderBy) LIMIT ?")
            let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(values: arguments + [.integer(Int64(limit))]))
            var hashes: [KeyHash] = []
            while let row = try cursor.next() {
                let values = row.values
                hashes.append(KeyHash(key: Array(values.prefix(keyCount)), hash: UInt64(bitPattern: row[keyCount] as Int64? ?? 0)))
            }
            return hashes
        }
    }

    public func key(at offset: Int, in range: KeyRange) async throws -> [BackfillCore.Value]? {
        let sql = keysetSQL
        let keyList = key.map(Identifier.quoted).joined(separator: ", ")
        let (conditions, arguments) = sql.conditions(range: range, after: nil)
        return try await readVerifying { db in
            try Row.fetchOne(
                db, sql: "SELECT \(keyList) FROM \(sql.quotedTable)\(conditions)\(sql.orderBy) LIMIT 1 OFFSET ?",
                arguments: StatementArguments(values: arguments + [.integer(Int64(offset))])
            )?.values
        }
    }

    /// `n` keys of the source chosen at random (within the spec's range).
    public func randomKeys(_ n: Int) async throws -> [[BackfillCore.Value]] {
        let sql = keysetSQL
        let keyList = key.map(Identifier.quoted).joined(separator: ", ")
        let (conditions, arguments) = sql.conditions(range: range.keyRange, after: nil)
        return try await readVerifying { db in
            try Row.fetchAll(
                db, sql: "SELECT \(keyList) FROM \(sql.quotedTable)\(conditions) ORDER BY random() LIMIT ?",
                arguments: StatementArguments(values: arguments + [.integer(Int64(n))])
            ).map(\.values)
        }
    }

    /// A named verification query's result, every value as text (`verify.queries`).
    public func queryResult(_ query: String) async throws -> [[String]] {
        try await readVerifying { db in
            try Row.fetchAll(db, sql: query).map { row in row.values.map(\.description) }
        }
    }

    public func page(in range: KeyRange, after key: [BackfillCore.Value]?, limit: Int) async throws -> [[BackfillCore.Value]] {
        try await read(chunk: range, after: key.map { BackfillCore.Cursor(key: $0) }, limit: limit).rows
    }

    public func rows(in range: KeyRange) async throws -> [[BackfillCore.Value]] {
        let sql = keysetSQL
        let (conditions, arguments) = sql.conditions(range: range, after: nil)
        return try await readVerifying { db in
            try Row.fetchAll(
                db, sql: "SELECT \(sql.selectList) FROM \(sql.quotedTable)\(conditions)\(sql.orderBy)",
                arguments: StatementArguments(values: arguments)
            ).map(\.values)
        }
    }
}

extension SQLiteSource: VerifySide {
    /// SQLite sorts keys by their bytes already (BINARY collation).
    public func comparing(_ columns: [String]) async throws -> any VerifySide { selecting(columns) }

    /// SQLite keeps the values it is given: compared as a run types them.
    public func canonicalKindsAcrossEngines() async throws -> [CanonicalKind]? { nil }
}
