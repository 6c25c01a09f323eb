import Synchronization

/// The diff of a batch window between two tables that hash alike (`WindowHashing`), computed
/// inside both engines (`RangeDiffer`).
///
/// 1. The window's bounds on the source: its last key and the first key after it.
/// 2. On both sides at once, per bucket of keys (about `rowsPerBucket` rows each): the count and
///    the sum of the row hashes.
/// 3. On both sides at once, for the buckets that differ only: each key's hash with its row hash.
/// 4. From the source, the keys of the rows whose row hash the target lacks or has differently:
///    the window's differing rows.
/// When the target holds less than half the window's rows (a gap), steps 3 and 4 are skipped: the
/// window is read directly.
///
/// Damage spread over every bucket makes step 3 a second pass over the whole window; after a
/// window where more than `directShare` of the buckets differed, the next windows skip step 2 and
/// ask both sides for every row's hash at once (one pass), until a window shows the damage has
/// thinned out again. Either way the differing keys are the same.
public struct BucketRangeDiffer: RangeDiffer {
    let source: any WindowHashing
    let target: any WindowHashing

    /// Whether the next window skips the bucket digests (shared by the workers: a hint only).
    private let direct: Direct

    /// Rows per bucket of the descent: a differing row costs its bucket's key hashes.
    public static let rowsPerBucket = 32
    /// The share of differing buckets above which the next window asks for every row's hash at once.
    /// (Step 3 computes every key's hash again to find the buckets; returning every row costs
    /// little more, so a tenth of the buckets differing already makes one pass cheaper.)
    public static let directShare = 0.1

    public init(source: any WindowHashing, target: any WindowHashing) {
        self.source = source
        self.target = target
        direct = Direct()
    }

    public var windowsFirst: Bool { source.hashesInServer && target.hashesInServer }

    private final class Direct: Sendable {
        let next = Mutex(false)
    }

    public func diff(in range: KeyRange, after cursor: Cursor?, limit: Int) async throws -> WindowDiff {
        let bounds = try await source.windowBounds(in: range, after: cursor?.key, limit: limit)
        guard let last = bounds.last else {
            return WindowDiff(sourceRows: 0, targetRows: 0, lastKey: nil, isLast: true, differingKeys: [])
        }
        let window = KeyRange(lower: range.lower, upper: bounds.next ?? range.upper)
        let buckets = max(1, limit / Self.rowsPerBucket)
        var diff: WindowDiff
        if direct.next.withLock({ $0 }) {
            diff = try await diffDirectly(window, after: cursor, buckets: buckets, bounds: bounds, last: last)
        } else {
            diff = try await diffByBuckets(window, after: cursor, buckets: buckets, bounds: bounds, last: last)
        }
        diff.sourceBytes += Self.bytes(last) + (bounds.next.map(Self.bytes) ?? 0)
        return diff
    }

    /// Steps 2 to 4.
    private func diffByBuckets(_ window: KeyRange, after cursor: Cursor?, buckets: Int, bounds: WindowBounds, last: [Value]) async throws
        -> WindowDiff
    {
        async let sourceDigests = source.bucketDigests(in: window, after: cursor?.key, buckets: buckets)
        let targetDigests = try await target.bucketDigests(in: window, after: cursor?.key, buckets: buckets)
        let sourceByBucket = try await sourceDigests
        let sourceRows = sourceByBucket.values.reduce(0) { $0 + $1.count }
        let targetRows = targetDigests.values.reduce(0) { $0 + $1.count }
        var diff = WindowDiff(sourceRows: sourceRows, targetRows: targetRows, lastKey: last, isLast: bounds.next == nil, differingKeys: nil)
        // Bucket, count and sum.
        diff.sourceBytes = 24 * sourceByBucket.count
        diff.targetBytes = 24 * targetDigests.count
        // A gap: most of the window is missing in the target, so nearly every row ships anyway.
        guard targetRows * 2 >= sourceRows else { return diff }
        let differing = sourceByBucket.filter { bucket, digest in targetDigests[bucket] != digest }.keys.sorted()
        direct.next.withLock { $0 = Double(differing.count) > Self.directShare * Double(sourceByBucket.count) }
        guard !differing.isEmpty else {
            diff.differingKeys = []
            return diff
        }
        async let sourceHashes = source.rowHashes(in: window, after: cursor?.key, buckets: buckets, among: differing)
        let targetHashes = try await target.rowHashes(in: window, after: cursor?.key, buckets: buckets, among: differing)
        let hashed = try await sourceHashes
        diff.sourceBytes += 16 * hashed.count
        diff.targetBytes += 16 * targetHashes.count
        diff.differingKeys = try await keys(of: Self.differing(hashed, targetHashes), in: window, after: cursor)
        return diff
    }

    /// Steps 2 and 3 in one: every row's hash from both sides; the share of buckets that would
    /// have differed decides whether the next window does the same.
    private func diffDirectly(_ window: KeyRange, after cursor: Cursor?, buckets: Int, bounds: WindowBounds, last: [Value]) async throws
        -> WindowDiff
    {
        async let sourceHashes = source.rowHashes(in: window, after: cursor?.key, buckets: 1, among: [0])
        let targetHashes = try await target.rowHashes(in: window, after: cursor?.key, buckets: 1, among: [0])
        let sourceRows = try await sourceHashes
        var diff = WindowDiff(
            sourceRows: sourceRows.count, targetRows: targetHashes.count, lastKey: last, isLast: bounds.next == nil, differingKeys: nil)
        diff.sourceBytes = 16 * sourceRows.count
        diff.targetBytes = 16 * targetHashes.count
        guard targetHashes.count * 2 >= sourceRows.count else { return diff }
        let differingRows = Self.differing(sourceRows, targetHashes)
        let differingBuckets = Set(differingRows.map { RowHash.bucket(of: $0.keyHash, among: buckets) })
        let bucketsHeld = Set(sourceRows.map { RowHash.bucket(of: $0.keyHash, among: buckets) })
        direct.next.withLock { $0 = Double(differingBuckets.count) > Self.directShare * Double(bucketsHeld.count) }
        diff.differingKeys = try await keys(of: differingRows, in: window, after: cursor)
        return diff
    }

    /// The source rows whose row hash the target lacks or holds differently (paired by key hash).
    private static func differing(_ source: [RowHash], _ target: [RowHash]) -> [RowHash] {
        let targetByKey = Dictionary(target.map { ($0.keyHash, $0.hash) }, uniquingKeysWith: { first, _ in first })
        return source.filter { targetByKey[$0.keyHash] != $0.hash }
    }

    /// Step 4: the source's keys of `rows`.
    private func keys(of rows: [RowHash], in window: KeyRange, after cursor: Cursor?) async throws -> [[Value]] {
        rows.isEmpty ? [] : try await source.keys(of: rows, in: window, after: cursor?.key)
    }

    /// A key's bytes, as `Counters.ship` counts values.
    private static func bytes(_ key: [Value]) -> Int { key.reduce(0) { $0 + $1.payloadBytes } }
}
