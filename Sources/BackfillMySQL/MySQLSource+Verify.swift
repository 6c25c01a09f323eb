import BackfillCore

/// `verify` on a MySQL table. Across engines rows are streamed and compared in their canonical
/// form (the sink's comparison); MySQL ↔ MySQL checksums ranges with the engine-independent row
/// hash, computed by `backfill` over the rows it reads (the in-engine checksum is not built yet).
extension MySQLSource: VerifySide {
    public func comparing(_ columns: [String]) async throws -> any VerifySide { try await selecting(columns) }

    /// MySQL parses values into its own types and prints them its own way (`1.50` for a
    /// DECIMAL(10,2)): values are compared in each column's canonical form.
    public func canonicalKindsAcrossEngines() async throws -> [CanonicalKind]? {
        try await tableInfo().types(of: columns).map(\.canonicalKind)
    }

    public func digest(_ range: KeyRange) async throws -> TableDigest {
        var digest = TableDigest(count: 0, sum: 0)
        try await eachPage(of: range) { rows in
            for row in rows {
                digest.count += 1
                digest.sum = digest.sum &+ RowDigest.hash(row)
            }
        }
        return digest
    }

    /// The rows of `range` in key order, page by page.
    private func eachPage(of range: KeyRange, _ body: ([[Value]]) -> Void) async throws {
        var cursor: [Value]?
        while true {
            let rows = try await page(in: range, after: cursor, limit: 10_000)
            body(rows)
            guard rows.count == 10_000, let last = rows.last else { return }
            cursor = keyPositions.map { last[$0] }
        }
    }

    public func key(at offset: Int, in range: KeyRange) async throws -> [Value]? {
        try await keys(in: range, order: try keysetSQL().orderBy, limit: 1, offset: offset, "splitting a range").first
    }

    public func rows(in range: KeyRange) async throws -> [[Value]] {
        var all: [[Value]] = []
        try await eachPage(of: range) { all += $0 }
        return all
    }

    public func page(in range: KeyRange, after key: [Value]?, limit: Int) async throws -> [[Value]] {
        try await read(chunk: range, after: key.map { Cursor(key: $0) }, limit: limit).rows
    }

    public func randomKeys(_ n: Int) async throws -> [[Value]] {
        try await keys(in: range.keyRange, order: "RAND()", limit: n, "choosing keys to spot-check")
    }

    public func queryResult(_ query: String) async throws -> [[String]] {
        try await database.rows(query, "running a verification query").map { row in
            row.map { $0.map { String(decoding: $0, as: UTF8.self) } ?? "NULL" }
        }
    }
}
