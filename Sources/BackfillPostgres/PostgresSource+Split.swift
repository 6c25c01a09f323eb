import BackfillCore
import PostgresNIO

extension PostgresSource {
    /// Counts what is left of the chunk (keys only, in key order, at most `max(4 × minimumRows,
    /// 200,000)` of them) and returns the key in the middle: a capped scan, so a split costs the
    /// same on a chunk of any size, and a very large rest is split again later.
    public func splitPoint(of chunk: KeyRange, after cursor: BackfillCore.Cursor?, minimumRows: Int) async throws -> SplitPoint? {
        let sql = try keysetSQL()
        let cap = max(4 * minimumRows, 200_000)
        let counted = try await rest(
            of: chunk, after: cursor, "counting a chunk's rest",
            select: "SELECT count(*)::text FROM (SELECT 1 FROM \(sql.quotedTable)", then: " ORDER BY \(sql.orderBy) LIMIT \(cap)) rest")
        let rest = counted.first?[0].flatMap { $0 }.flatMap(Int.init) ?? 0
        guard rest >= 2 * minimumRows else { return nil }
        let offset = rest / 2
        let found = try await self.rest(
            of: chunk, after: cursor, "finding a chunk's middle",
            select: "SELECT \(PostgresKeysetSQL.textList(key)) FROM \(sql.quotedTable)", then: " ORDER BY \(sql.orderBy) OFFSET \(offset) LIMIT 1")
        guard let cells = found.first, let info = try? await tableInfo() else { return nil }
        let key = zip(cells, info.types(of: key)).map { cell, type in type.value(fromText: cell) }
        return SplitPoint(key: key, rowsBefore: offset, rowsAfter: rest - offset)
    }

    /// `select` + the WHERE clause of the chunk's rest after `cursor` (values bound) + `then`.
    private func rest(
        of chunk: KeyRange, after cursor: BackfillCore.Cursor?, _ what: String, select: String, then: String
    ) async throws -> [[String?]] {
        var binds = PostgresBindings()
        let filter = try keysetSQL().conditions(range: chunk, after: cursor?.key, binds: &binds)
        return try await database.textRows(PostgresQuery(unsafeSQL: select + filter + then, binds: binds), what)
    }
}
