import BackfillCore
import PostgresNIO

/// Compares a key range of two PostgreSQL tables with one aggregate per side, run concurrently:
/// `count(*)` and the sum of `hash_record_extended(ROW(columns), 0)` — PostgreSQL's own type-aware
/// hash, so equal values hash equal the way `IS DISTINCT FROM` sees them (`1.5` and `1.50` as
/// numeric, the same instant as `timestamptz`) and nothing is rendered as text.
///
/// Only offered when both tables declare the same types for the job's columns and the spec has no
/// `range.where` (the target cannot evaluate the source's filter); see `RangeComparer`.
public struct PostgresRangeComparer: RangeComparer {
    let source: PostgresDatabase
    let target: PostgresDatabase
    let sourceSQL: PostgresKeysetSQL
    let targetSQL: PostgresKeysetSQL
    let rowExpression: String

    /// A comparer for `job` between the two tables, or `nil` when their rows cannot be compared
    /// by hash (different column types, a `range.where`).
    public static func make(source: PostgresSource, target: PostgresSink, job: ResolvedJob) async throws -> PostgresRangeComparer? {
        guard let pair = try await PostgresHashPair.make(source: source, target: target, job: job) else { return nil }
        return PostgresRangeComparer(
            source: source.database, target: target.database, sourceSQL: pair.sourceSQL, targetSQL: pair.targetSQL,
            rowExpression: pair.sourceInfo.rowHash(of: job.columns))
    }

    /// Rows hashed by the probe that runs before the whole range is.
    static let probeRows = 5_000

    /// First (with `probe`) the range's first `probeRows` rows on both sides, then — only when
    /// those match — the whole range. Damage spread through the table fails the cheap probe, so a
    /// first run pays little for the check; a repaired table passes both and its chunk is never read.
    public func equalRows(in range: KeyRange, after cursor: Cursor?, probe: Bool) async throws -> Int? {
        if probe {
            guard try await sidesMatch(range: range, cursor: cursor, limit: Self.probeRows) != nil else { return nil }
        }
        return try await sidesMatch(range: range, cursor: cursor, limit: nil)
    }

    private func sidesMatch(range: KeyRange, cursor: Cursor?, limit: Int?) async throws -> Int? {
        async let sourceDigest = digest(sourceSQL, on: source, range: range, cursor: cursor, limit: limit)
        let targetDigest = try await digest(targetSQL, on: target, range: range, cursor: cursor, limit: limit)
        let (count, sum) = try await sourceDigest
        return (count, sum) == targetDigest ? count : nil
    }

    private func digest(
        _ sql: PostgresKeysetSQL, on database: PostgresDatabase, range: KeyRange, cursor: Cursor?, limit: Int?
    ) async throws -> (Int, String) {
        var binds = PostgresBindings()
        let filter = sql.conditions(range: range, after: cursor?.key, binds: &binds)
        let aggregate = "count(*)::text, coalesce(sum(\(rowExpression)), 0)::text"
        let text = limit.map { limit in
            "SELECT \(aggregate) FROM (SELECT * FROM \(sql.quotedTable)\(filter) ORDER BY \(sql.orderBy) LIMIT \(limit)) AS backfill_probe"
        } ?? "SELECT \(aggregate) FROM \(sql.quotedTable)\(filter)"
        let row = try await database.textRows(PostgresQuery(unsafeSQL: text, binds: binds), "comparing a chunk").first ?? []
        return (row.first.flatMap { $0.flatMap(Int.init) } ?? -1, (row.count > 1 ? row[1] : nil) ?? "")
    }
}
