import BackfillCore
import PostgresNIO

extension PostgresSource {
    /// Counts what is left of the chunk (keys only, in key order, at most `max(4 × minimumRows,
    /// 200,000)` of them) and returns the key in the middle: a capped scan, so a split costs the
    /// same on a chunk of any size, and a very large rest is split again later.
    public func splitPoint(of chunk: KeyRange, after cursor: BackfillCore.Cursor?, minimumRows: Int) async throws -> SplitPoint? {
        let sql = try keysetSQL()
        let cap = max(4 * minimumRows, 200_000)
        var countBinds = PostgresBindings()
        let countFilter = sql.conditions(range: chunk, after: cursor?.key, binds: &countBinds)
        let counted = try await database.textRows(
            PostgresQuery(
                unsafeSQL: "SELECT count(*)::text FROM (SELECT 1 FROM \(sql.quotedTable)\(countFilter) ORDER BY \(sql.orderBy) LIMIT \(cap)) rest",
                binds: countBinds),
            "counting a chunk's rest")
        let rest = counted.first?[0].flatMap { $0 }.flatMap(Int.init) ?? 0
        guard rest >= 2 * minimumRows else { return nil }
        let offset = rest / 2
        var keyBinds = PostgresBindings()
        let keyFilter = sql.conditions(range: chunk, after: cursor?.key, binds: &keyBinds)
        let found = try await database.textRows(
            PostgresQuery(
                unsafeSQL: "SELECT \(PostgresKeysetSQL.textList(key)) FROM \(sql.quotedTable)\(keyFilter) ORDER BY \(sql.orderBy) OFFSET \(offset) LIMIT 1",
                binds: keyBinds),
            "finding a chunk's middle")
        guard let cells = found.first, let info = try? await tableInfo() else { return nil }
        let key = zip(cells, info.types(of: key)).map { cell, type in type.value(fromText: cell) }
        return SplitPoint(key: key, rowsBefore: offset, rowsAfter: rest - offset)
    }
}
