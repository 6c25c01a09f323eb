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
        for chunk in chunks {
            try await check(chunk.range, report: &report)
        }
        let elapsed = started.duration(to: .now)
        report.seconds = elapsed.inSeconds
        return report
    }

    private typealias Digests = (source: TableDigest, target: TableDigest)

    private func digests(_ range: KeyRange, report: inout VerifyReport) async throws -> Digests {
        report.rangesCompared += 1
        return (try await source.digest(range), try await target.digest(range))
    }

    private func check(_ range: KeyRange, report: inout VerifyReport) async throws {
        guard checksumsInEngine else {
            try await stream(range, report: &report, counting: true)
            return
        }
        let digests = try await digests(range, report: &report)
        report.sourceRows += digests.source.count
        report.targetRows += digests.target.count
        try await settle(range, digests, report: &report, depth: 0)
    }

    /// Settles a range whose digests are known: equal ranges are done; small ones are listed;
    /// large ones are split at the median key, and recursed into where they differ — unless both
    /// halves differ, a sign of damage spread over the range, which is then streamed once rather
    /// than checksummed again at every level.
    private func settle(_ range: KeyRange, _ digests: Digests, report: inout VerifyReport, depth: Int) async throws {
        guard digests.source != digests.target else { return }
        let larger = max(digests.source.count, digests.target.count)
        guard larger > leafRows else {
            report.rangesListed += 1
            compare(try await source.rows(in: range), try await target.rows(in: range), report: &report)
            return
        }
        guard depth < 64, let middle = try await median(of: range, sourceCount: digests.source.count, targetCount: digests.target.count) else {
            try await stream(range, report: &report)
            return
        }
        let left = KeyRange(lower: range.lower, upper: middle)
        let right = KeyRange(lower: middle, upper: range.upper)
        let leftDigests = try await self.digests(left, report: &report)
        let rightDigests = Digests(
            TableDigest(count: digests.source.count - leftDigests.source.count, sum: digests.source.sum &- leftDigests.source.sum),
            TableDigest(count: digests.target.count - leftDigests.target.count, sum: digests.target.sum &- leftDigests.target.sum))
        if leftDigests.source != leftDigests.target && rightDigests.source != rightDigests.target {
            try await stream(range, report: &report)
            return
        }
        try await settle(left, leftDigests, report: &report, depth: depth + 1)
        try await settle(right, rightDigests, report: &report, depth: depth + 1)
    }

    /// Compares a range row by row, reading both sides a page of `leafRows` at a time.
    private func stream(_ range: KeyRange, report: inout VerifyReport, counting: Bool = false) async throws {
        report.rangesListed += 1
        var sourcePage: [[Value]] = [], targetPage: [[Value]] = []
        var sourceAt = 0, targetAt = 0
        var sourceDone = false, targetDone = false
        var sourceAfter: [Value]?, targetAfter: [Value]?
        var pendingSource: [[Value]] = [], pendingTarget: [[Value]] = []
        while true {
            if sourceAt == sourcePage.count, !sourceDone {
                sourcePage = try await source.page(in: range, after: sourceAfter, limit: leafRows)
                if counting { report.sourceRows += sourcePage.count }
                sourceAt = 0
                sourceDone = sourcePage.count < leafRows
                sourceAfter = sourcePage.last.map { job.key(of: $0) } ?? sourceAfter
            }
            if targetAt == targetPage.count, !targetDone {
                targetPage = try await target.page(in: range, after: targetAfter, limit: leafRows)
                if counting { report.targetRows += targetPage.count }
                targetAt = 0
                targetDone = targetPage.count < leafRows
                targetAfter = targetPage.last.map { job.key(of: $0) } ?? targetAfter
            }
            let sourceLeft = sourcePage.count - sourceAt, targetLeft = targetPage.count - targetAt
            if sourceLeft == 0 && targetLeft == 0 { break }
            // Merge while both pages have rows, or one side is exhausted for good.
            pendingSource.removeAll(keepingCapacity: true)
            pendingTarget.removeAll(keepingCapacity: true)
            while sourceAt < sourcePage.count || targetAt < targetPage.count {
                if sourceAt == sourcePage.count && !sourceDone { break }
                if targetAt == targetPage.count && !targetDone { break }
                let order: Int
                if sourceAt == sourcePage.count {
                    order = 1
                } else if targetAt == targetPage.count {
                    order = -1
                } else {
                    order = KeyOrder.compare(job.key(of: sourcePage[sourceAt]), job.key(of: targetPage[targetAt]))
                }
                if order <= 0 { pendingSource.append(sourcePage[sourceAt]); sourceAt += 1 }
                if order >= 0 { pendingTarget.append(targetPage[targetAt]); targetAt += 1 }
            }
            compare(pendingSource, pendingTarget, report: &report)
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
