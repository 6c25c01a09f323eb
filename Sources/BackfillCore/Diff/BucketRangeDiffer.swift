/// The diff of a batch window between two tables that hash alike (`WindowHashing`), computed
/// inside both engines (`RangeDiffer`).
///
/// 1. The window's bounds on the source: its last key and the first key after it.
/// 2. On both sides at once, per bucket of keys (about `rowsPerBucket` rows each): the count and
///    the sum of the row hashes.
/// 3. On both sides at once, for the buckets that differ only: each key with its row hash.
/// The source keys whose row hash the target lacks or has differently are the window's differing
/// rows. When the target holds less than half the window's rows (a gap), step 3 is skipped: the
/// window is read directly.
public struct BucketRangeDiffer: RangeDiffer {
    let source: any WindowHashing
    let target: any WindowHashing

    /// Rows per bucket of the descent: a differing row costs its bucket's key hashes.
    public static let rowsPerBucket = 32

    public init(source: any WindowHashing, target: any WindowHashing) {
        self.source = source
        self.target = target
    }

    public func diff(in range: KeyRange, after cursor: Cursor?, limit: Int) async throws -> WindowDiff {
        let bounds = try await source.windowBounds(in: range, after: cursor?.key, limit: limit)
        guard let last = bounds.last else {
            return WindowDiff(sourceRows: 0, targetRows: 0, lastKey: nil, isLast: true, differingKeys: [])
        }
        let window = KeyRange(lower: range.lower, upper: bounds.next ?? range.upper)
        let buckets = max(1, limit / Self.rowsPerBucket)
        async let sourceDigests = source.bucketDigests(in: window, after: cursor?.key, buckets: buckets)
        let targetDigests = try await target.bucketDigests(in: window, after: cursor?.key, buckets: buckets)
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
        async let sourceHashes = source.rowHashes(in: window, after: cursor?.key, buckets: buckets, among: differing)
        let targetHashes = try await target.rowHashes(in: window, after: cursor?.key, buckets: buckets, among: differing)
        let targetByKey = Dictionary(targetHashes.map { ($0.keyHash, $0.hash) }, uniquingKeysWith: { first, _ in first })
        diff.differingKeys = try await sourceHashes.filter { targetByKey[$0.keyHash] != $0.hash }.map(\.key)
        return diff
    }
}
