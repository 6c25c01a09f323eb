import BackfillCore
import PostgresNIO

/// The diff of a batch window between two PostgreSQL tables, inside both servers (`RangeDiffer`).
///
/// 1. The window's bounds on the source: its last key and the first key after it, by an index-only
///    keyset query (`OFFSET limit - 1 LIMIT 2`).
/// 2. On both sides at once, per bucket of keys (`hash_record_extended(ROW(key), 1)` modulo the
///    number of buckets, about `rowsPerBucket` rows each): the count and the sum of the row hashes
///    (`PostgresRangeComparer`'s hash, so equal means equal as `IS DISTINCT FROM` sees it).
/// 3. On both sides at once, for the buckets that differ only: each key with its row hash.
/// The keys whose hash the target lacks or has differently are the window's differing rows. When
/// the target holds less than half the window's rows (a gap), step 3 is skipped: the window is
/// read directly.
///
/// Offered where the comparer is: both tables declare the same types for the job's columns and
/// the spec has no `range.where`.
public struct PostgresRangeDiffer: RangeDiffer {
    let source: PostgresDatabase
    let target: PostgresDatabase
    let sourceSQL: PostgresKeysetSQL
    let targetSQL: PostgresKeysetSQL
    let key: [String]
    let info: PostgresTableInfo
    let rowHash: String
    let keyHash: String

    /// Rows per bucket of the descent: a differing row costs its bucket's key hashes.
    static let rowsPerBucket = 32

    /// A differ for `job` between the two tables, or `nil` where their rows cannot be compared by hash.
    public static func make(source: PostgresSource, target: PostgresSink, job: ResolvedJob) async throws -> PostgresRangeDiffer? {
        guard job.spec.mode != .updateInPlace, let pair = try await PostgresHashPair.make(source: source, target: target, job: job) else {
            return nil
        }
        return PostgresRangeDiffer(
            source: source.database, target: target.database, sourceSQL: pair.sourceSQL, targetSQL: pair.targetSQL, key: pair.key,
            info: pair.sourceInfo, rowHash: pair.sourceInfo.rowHash(of: job.columns), keyHash: pair.sourceInfo.rowHash(of: pair.key, seed: 1))
    }

    public func diff(in range: KeyRange, after cursor: Cursor?, limit: Int) async throws -> WindowDiff {
        let bounds = try await windowBounds(range: range, after: cursor?.key, limit: limit)
        guard let last = bounds.last else {
            return WindowDiff(sourceRows: 0, targetRows: 0, lastKey: nil, isLast: true, differingKeys: [])
        }
        let window = KeyRange(lower: range.lower, upper: bounds.next ?? range.upper)
        let buckets = max(1, limit / Self.rowsPerBucket)
        async let sourceDigests = bucketDigests(sourceSQL, on: source, window: window, after: cursor?.key, buckets: buckets)
        let targetDigests = try await bucketDigests(targetSQL, on: target, window: window, after: cursor?.key, buckets: buckets)
        let sourceByBucket = try await sourceDigests
        let sourceRows = sourceByBucket.values.reduce(0) { $0 + $1.count }
        let targetRows = targetDigests.values.reduce(0) { $0 + $1.count }
        var diff = WindowDiff(sourceRows: sourceRows, targetRows: targetRows, lastKey: last, isLast: bounds.next == nil, differingKeys: nil)
        // A gap: most of the window is missing in the target, so nearly every row ships anyway.
        guard targetRows * 2 >= sourceRows else { return diff }
        let differing = sourceByBucket.filter { bucket, digest in targetDigests[bucket] != digest }.keys.sorted()
        guard !differing.isEmpty else {
            diff.differingKeys = []
            return diff
        }
        async let sourceHashes = keyHashes(sourceSQL, on: source, window: window, after: cursor?.key, buckets: buckets, among: differing)
        let targetHashes = try await keyHashes(targetSQL, on: target, window: window, after: cursor?.key, buckets: buckets, among: differing)
        let targetByKey = Dictionary(targetHashes.map { ($0.key, $0.hash) }, uniquingKeysWith: { first, _ in first })
        diff.differingKeys = try await sourceHashes.filter { targetByKey[$0.key] != $0.hash }.map { info.values(fromText: $0.key, of: key) }
        return diff
    }

    /// The window's last source key and the first key after it (`nil` when the window reaches the
    /// end of the range).
    private func windowBounds(range: KeyRange, after cursor: [Value]?, limit: Int) async throws -> (last: [Value]?, next: [Value]?) {
        var binds = PostgresBindings()
        let filter = sourceSQL.conditions(range: range, after: cursor, binds: &binds)
        let from = "SELECT \(sourceSQL.keyTextList) FROM \(sourceSQL.quotedTable)\(filter)"
        let rows = try await source.textRows(
            PostgresQuery(unsafeSQL: "\(from) ORDER BY \(sourceSQL.orderBy) OFFSET \(max(0, limit - 1)) LIMIT 2", binds: binds),
            "finding a batch's bounds")
        if let first = rows.first {
            return (info.values(fromText: first, of: key), rows.count > 1 ? info.values(fromText: rows[1], of: key) : nil)
        }
        // Fewer than `limit` rows are left: the window is the rest of the range.
        let lastRows = try await source.textRows(
            PostgresQuery(unsafeSQL: "\(from) ORDER BY \(sourceSQL.orderByDescending) LIMIT 1", binds: binds), "finding a batch's bounds")
        return (lastRows.first.map { info.values(fromText: $0, of: key) }, nil)
    }

    private struct Digest: Hashable {
        var count: Int
        var sum: String
    }

    private func bucketDigests(
        _ sql: PostgresKeysetSQL, on database: PostgresDatabase, window: KeyRange, after cursor: [Value]?, buckets: Int
    ) async throws -> [Int64: Digest] {
        var binds = PostgresBindings()
        let filter = sql.conditions(range: window, after: cursor, binds: &binds)
        let rows = try await database.textRows(
            PostgresQuery(
                unsafeSQL: "SELECT (\(keyHash) % \(buckets))::text, count(*)::text, sum(\(rowHash))::text FROM \(sql.quotedTable)\(filter) GROUP BY 1",
                binds: binds),
            "comparing a batch by buckets")
        var digests: [Int64: Digest] = [:]
        for row in rows {
            guard row.count == 3, let bucket = row[0].flatMap({ Int64($0) }), let count = row[1].flatMap({ Int($0) }) else { continue }
            digests[bucket] = Digest(count: count, sum: row[2] ?? "")
        }
        return digests
    }

    private func keyHashes(
        _ sql: PostgresKeysetSQL, on database: PostgresDatabase, window: KeyRange, after cursor: [Value]?, buckets: Int, among: [Int64]
    ) async throws -> [(key: [String?], hash: String?)] {
        var binds = PostgresBindings()
        let filter = sql.conditions(range: window, after: cursor, binds: &binds)
        binds.append(among)
        let connector = filter.isEmpty ? " WHERE " : " AND "
        let rows = try await database.textRows(
            PostgresQuery(
                unsafeSQL: "SELECT \(sql.keyTextList), (\(rowHash))::text FROM \(sql.quotedTable)\(filter)\(connector)(\(keyHash) % \(buckets)) = ANY($\(binds.count)) ORDER BY \(sql.orderBy)",
                binds: binds),
            "comparing a batch by key")
        return rows.map { row in (Array(row.dropLast()), row.last ?? nil) }
    }
}
