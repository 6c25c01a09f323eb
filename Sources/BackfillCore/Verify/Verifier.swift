import Foundation

/// Proves the target equals the source: per chunk, count and checksum both sides inside their
/// engine; where they differ, split the range at its median key and recurse until a range is
/// small, then compare its rows one by one and classify every difference.
public struct Verifier: Sendable {
    let job: ResolvedJob
    let source: any VerifiableTable
    let target: any VerifiableTable
    /// Ranges with at most this many rows on both sides are listed and compared row by row: large
    /// enough that scattered damage is listed in a few passes instead of bisected row by row, small
    /// enough to bound memory (two lists of this many rows).
    public var leafRows = 20_000
    /// At most this many differences are kept in the report (all are counted).
    public var reportLimit = 1000
    /// Keep every differing key, for a repair.
    public var collectKeys = false
    /// Whether both sides checksum ranges the same way inside their engines (two SQLite or two
    /// PostgreSQL tables). Across engines they cannot: every chunk is then read from both sides
    /// in key order, a page at a time, and compared row by row in `canonical` form.
    public var checksumsInEngine = true
    /// Across engines: the kind of each compared column (see `CanonicalKind`).
    public var canonical: [CanonicalKind]?
    /// Across engines: compares a chunk inside both engines by their canonical row hashes
    /// (`WindowRangeComparer`), so an equal chunk is not read row by row.
    public var rangeComparer: (any RangeComparer)?
    /// Consecutive integer key values summed into one bucket when a damaged range is streamed:
    /// with 1% of rows damaged, about a quarter of 32-value buckets differ, so three quarters of
    /// the rows never leave their database one by one.
    public var bucketWidth: Int64 = 32

    public init(job: ResolvedJob, source: any VerifiableTable, target: any VerifiableTable) {
        self.job = job
        self.source = source
        self.target = target
    }

    /// Verifies every chunk.
    /// - Throws: errors of either side.
    public func verify(chunks: [ChunkPlan]) async throws -> VerifyReport {
        let started = ContinuousClock.now
        var report = VerifyReport(job: job.spec.name)
        report.columns = job.columns
        if collectKeys {
            report.repairKeys = []
            report.extraKeys = []
        }
        // Damage spread over a chunk (both halves differ) is likely spread over the next one too:
        // that one is then streamed at once, without checksums that would only confirm it. A
        // streamed chunk without differences returns to checksums.
        var spread = false
        for chunk in chunks {
            if spread && checksumsInEngine {
                let before = report.missing + report.extra + report.different + report.newerInTarget
                try await stream(chunk.range, report: &report, counting: true)
                spread = report.missing + report.extra + report.different + report.newerInTarget > before
            } else {
                spread = try await check(chunk.range, report: &report)
            }
        }
        let elapsed = started.duration(to: .now)
        report.seconds = elapsed.inSeconds
        return report
    }

    private typealias Digests = (source: TableDigest, target: TableDigest)

    private func digests(_ range: KeyRange, report: inout VerifyReport) async throws -> Digests {
        report.rangesCompared += 1
        async let sourceDigest = source.digest(range)
        let targetDigest = try await target.digest(range)
        return (try await sourceDigest, targetDigest)
    }

    /// Verifies one chunk; returns whether it found damage spread over it (and streamed it).
    private func check(_ range: KeyRange, report: inout VerifyReport) async throws -> Bool {
        guard checksumsInEngine else {
            if let rangeComparer, let rows = try await rangeComparer.equalRows(in: range, after: nil, probe: true) {
                report.rangesCompared += 1
                report.sourceRows += rows
                report.targetRows += rows
            } else {
                try await stream(range, report: &report, counting: true)
            }
            return false
        }
        let digests = try await digests(range, report: &report)
        report.sourceRows += digests.source.count
        report.targetRows += digests.target.count
        return try await settle(range, digests, report: &report, depth: 0)
    }

    /// Settles a range whose digests are known: equal ranges are done; small ones are listed;
    /// large ones are split at the median key, and recursed into where they differ — unless both
    /// halves differ, a sign of damage spread over the range, which is then streamed once rather
    /// than checksummed again at every level.
    /// - Returns: whether part of the range was streamed for spread damage.
    @discardableResult
    private func settle(_ range: KeyRange, _ digests: Digests, report: inout VerifyReport, depth: Int) async throws -> Bool {
        guard digests.source != digests.target else { return false }
        let larger = max(digests.source.count, digests.target.count)
        guard larger > leafRows else {
            report.rangesListed += 1
            compare(try await source.rows(in: range), try await target.rows(in: range), report: &report)
            return false
        }
        guard depth < 64, let middle = try await median(of: range, sourceCount: digests.source.count, targetCount: digests.target.count) else {
            try await stream(range, report: &report)
            return true
        }
        let left = KeyRange(lower: range.lower, upper: middle)
        let right = KeyRange(lower: middle, upper: range.upper)
        let leftDigests = try await self.digests(left, report: &report)
        let rightDigests = Digests(
            TableDigest(count: digests.source.count - leftDigests.source.count, sum: digests.source.sum &- leftDigests.source.sum),
            TableDigest(count: digests.target.count - leftDigests.target.count, sum: digests.target.sum &- leftDigests.target.sum))
        if leftDigests.source != leftDigests.target && rightDigests.source != rightDigests.target {
            try await stream(range, report: &report)
            return true
        }
        let streamedLeft = try await settle(left, leftDigests, report: &report, depth: depth + 1)
        let streamedRight = try await settle(right, rightDigests, report: &report, depth: depth + 1)
        return streamedLeft || streamedRight
    }

    /// Compares a range all the way through, reading both sides in key order a page of
    /// `leafRows` at a time (both sides at once). Where both tables hash rows inside their engine,
    /// only keys and row hashes are shipped, and the full rows of keys whose hashes differ are
    /// fetched afterwards to name the columns; otherwise whole rows are compared.
    private func stream(_ range: KeyRange, report: inout VerifyReport, counting: Bool = false) async throws {
        report.rangesListed += 1
        if checksumsInEngine, try await streamHashes(range, report: &report, counting: counting) { return }
        let (source, target, leafRows, job) = (self.source, self.target, self.leafRows, self.job)
        try await KeyMerge<[Value]>(
            key: job.key(of:),
            source: { after in try await source.page(in: range, after: after, limit: leafRows) },
            target: { after in try await target.page(in: range, after: after, limit: leafRows) },
            pageSize: leafRows
        ).run { sourceRows, targetRows, sourceRead, targetRead in
            if counting {
                report.sourceRows += sourceRead
                report.targetRows += targetRead
            }
            compare(sourceRows, targetRows, report: &report)
        }
    }

    /// `stream` over keys and row hashes; `false` when a side cannot hash rows. With a single
    /// integer key, buckets of `bucketWidth` consecutive key values are counted and summed inside
    /// each engine first, and only the rows of differing buckets are hashed one by one.
    private func streamHashes(_ range: KeyRange, report: inout VerifyReport, counting: Bool) async throws -> Bool {
        let (source, target, leafRows, width) = (self.source, self.target, self.leafRows, self.bucketWidth)
        async let sourceBuckets = source.bucketDigests(in: range, width: width)
        if let targetBuckets = try await target.bucketDigests(in: range, width: width), let sourceBuckets = try await sourceBuckets {
            if counting {
                report.sourceRows += sourceBuckets.reduce(0) { $0 + $1.digest.count }
                report.targetRows += targetBuckets.reduce(0) { $0 + $1.digest.count }
            }
            let differing = Self.differingBuckets(sourceBuckets, targetBuckets)
            for start in stride(from: 0, to: differing.count, by: 1_000) {
                let buckets = Array(differing[start..<min(start + 1_000, differing.count)])
                async let sourceHashes = source.keyHashes(in: range, buckets: buckets, width: width)
                let targetHashes = try await target.keyHashes(in: range, buckets: buckets, width: width) ?? []
                try await classify(try await sourceHashes ?? [], targetHashes, report: &report)
            }
            return true
        }
        guard source.hashesRows, target.hashesRows else { return false }
        try await KeyMerge<KeyHash>(
            key: \.key,
            source: { after in try await source.keyHashes(in: range, after: after, limit: leafRows) ?? [] },
            target: { after in try await target.keyHashes(in: range, after: after, limit: leafRows) ?? [] },
            pageSize: leafRows
        ).run { sourceHashes, targetHashes, sourceRead, targetRead in
            if counting {
                report.sourceRows += sourceRead
                report.targetRows += targetRead
            }
            try await classify(sourceHashes, targetHashes, report: &report)
        }
        return true
    }

    /// Buckets whose count or checksum differ, or that one side lacks.
    static func differingBuckets(_ source: [BucketDigest], _ target: [BucketDigest]) -> [Int64] {
        var differing: [Int64] = []
        var i = 0, j = 0
        while i < source.count || j < target.count {
            if j == target.count || (i < source.count && source[i].bucket < target[j].bucket) {
                differing.append(source[i].bucket)
                i += 1
            } else if i == source.count || target[j].bucket < source[i].bucket {
                differing.append(target[j].bucket)
                j += 1
            } else {
                if source[i].digest != target[j].digest { differing.append(source[i].bucket) }
                i += 1
                j += 1
            }
        }
        return differing
    }

    /// Merges key-ordered hashes of both sides: records missing and extra keys, and compares the
    /// rows of keys whose hashes differ (fetched from both sides) to name the columns.
    private func classify(_ sourceHashes: [KeyHash], _ targetHashes: [KeyHash], report: inout VerifyReport) async throws {
        let comparer = RowComparer(job: job, reportLimit: reportLimit, canonical: canonical)
        var differing: [[Value]] = []
        var i = 0, j = 0
        while i < sourceHashes.count || j < targetHashes.count {
            let order = i == sourceHashes.count ? 1 : j == targetHashes.count ? -1 : KeyOrder.compare(sourceHashes[i].key, targetHashes[j].key)
            if order < 0 {
                comparer.record(.missing, key: sourceHashes[i].key, columns: [], report: &report)
            } else if order > 0 {
                comparer.record(.extra, key: targetHashes[j].key, columns: [], report: &report)
            } else if sourceHashes[i].hash != targetHashes[j].hash {
                differing.append(sourceHashes[i].key)
            }
            if order <= 0 { i += 1 }
            if order >= 0 { j += 1 }
        }
        let sorted = { (rows: [[Value]]) in rows.sorted { KeyOrder.compare(self.job.key(of: $0), self.job.key(of: $1)) < 0 } }
        for start in stride(from: 0, to: differing.count, by: 2_000) {
            let keys = Array(differing[start..<min(start + 2_000, differing.count)])
            async let sourceRows = source.fetch(keys: keys)
            let targetRows = try await target.fetch(keys: keys) ?? []
            comparer.compare(sorted(try await sourceRows ?? []), sorted(targetRows), report: &report)
        }
    }

    /// A key that splits `range` into two non-empty halves, from the side with more rows.
    private func median(of range: KeyRange, sourceCount: Int, targetCount: Int) async throws -> [Value]? {
        let (side, count) = sourceCount >= targetCount ? (source, sourceCount) : (target, targetCount)
        guard let key = try await side.key(at: count / 2, in: range) else { return nil }
        if let lower = range.lower, KeyOrder.compare(key, lower) <= 0 { return nil }
        return key
    }

    /// Compares the rows of `keys` on both sides field by field (`verify.spot-check`).
    public func spotCheck(keys: [[Value]], report: inout VerifyReport) async throws {
        guard let sourceRows = try await source.fetch(keys: keys), let targetRows = try await target.fetch(keys: keys) else {
            return
        }
        let sorted = { (rows: [[Value]]) in rows.sorted { KeyOrder.compare(job.key(of: $0), job.key(of: $1)) < 0 } }
        var spot = VerifyReport(job: report.job)
        compare(sorted(sourceRows), sorted(targetRows), report: &spot)
        report.spotChecked = keys.count
        report.spotMismatches = spot.differences.filter { $0.kind != .newerInTarget }
    }

    /// Merge-joins two key-ordered row lists and records every difference.
    func compare(_ sourceRows: [[Value]], _ targetRows: [[Value]], report: inout VerifyReport) {
        RowComparer(job: job, reportLimit: reportLimit, canonical: canonical).compare(sourceRows, targetRows, report: &report)
    }
}
