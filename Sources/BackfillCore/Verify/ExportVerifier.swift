import Foundation

/// Verifies a target against an export (CSV/JSONL) that is not in key order: the export is read
/// once in batches, each batch typed like a backfill types it and compared with the target rows of
/// its keys; then the target's keys are scanned once for rows the export does not have. Keeps one
/// 64-bit hash per export key (about 16 bytes a row) to find those extra rows.
public struct ExportVerifier: Sendable {
    let job: ResolvedJob
    let source: any Source
    let target: any VerifiableTable
    public var batchSize = 5000
    public var reportLimit = 1000
    /// The kind of each compared column when the target is not SQLite (see `CanonicalKind`):
    /// export values are text, which only a canonical form compares with PostgreSQL's types.
    public var canonical: [CanonicalKind]?

    public init(job: ResolvedJob, source: any Source, target: any VerifiableTable) {
        self.job = job
        self.source = source
        self.target = target
    }

    /// Compares the whole export with the target.
    /// - Throws: errors of either side.
    public func verify() async throws -> VerifyReport {
        let started = ContinuousClock.now
        var report = VerifyReport(job: job.spec.name)
        report.columns = job.columns
        let comparer = RowComparer(job: job, reportLimit: reportLimit, canonical: canonical)
        let shaper = RowShaper(job: job, strict: source.valuesAreText)
        var seen = Set<UInt64>()
        for chunk in try await source.plan(workers: 1) {
            try await compare(chunk.range, comparer: comparer, shaper: shaper, seen: &seen, report: &report)
        }
        var after: [Value]?
        while true {
            let page = try await target.page(in: .all, after: after, limit: batchSize)
            report.targetRows += page.count
            for row in page where !seen.contains(RowDigest.hash(job.key(of: row))) {
                comparer.record(.extra, key: job.key(of: row), columns: [], report: &report)
            }
            guard page.count == batchSize, let last = page.last else { break }
            after = job.key(of: last)
        }
        report.seconds = started.duration(to: .now).inSeconds
        return report
    }

    /// Compares one chunk (an export part) with the target rows of its keys.
    private func compare(
        _ chunk: KeyRange, comparer: RowComparer, shaper: RowShaper, seen: inout Set<UInt64>, report: inout VerifyReport
    ) async throws {
        var cursor: Cursor?
        while true {
            let batch = try await source.read(chunk: chunk, after: cursor, limit: batchSize)
            report.unreadableSourceRecords += batch.rejected.count
            var rows: [[Value]] = []
            for row in batch.rows {
                guard case .success(let typed) = shaper.shape(row), seen.insert(RowDigest.hash(job.key(of: typed))).inserted else {
                    report.unreadableSourceRecords += 1
                    continue
                }
                rows.append(typed)
            }
            report.sourceRows += rows.count
            let targetRows = try await target.fetch(keys: rows.map { job.key(of: $0) }) ?? []
            comparer.compare(sorted(rows), sorted(targetRows), report: &report)
            cursor = batch.cursor
            if batch.isLast { return }
        }
    }

    private func sorted(_ rows: [[Value]]) -> [[Value]] {
        rows.sorted { KeyOrder.compare(job.key(of: $0), job.key(of: $1)) < 0 }
    }
}

extension ExportVerifier {
    /// What an export cannot be verified with: the spec's spot check and queries (an export has no
    /// database to ask) and `--repair` (which reads rows again by key).
    /// - Throws: `BackfillError` naming what to drop.
    public static func refuseUnsupported(_ spec: JobSpec, repair: Bool) throws {
        guard spec.verify.spotCheck == nil, spec.verify.queries.isEmpty else {
            throw BackfillError(.invalidSpec, "verify.spot-check and verify.queries need a database source; a \(spec.source.kind.rawValue) export has none")
        }
        guard !repair else {
            throw BackfillError(.invalidInput, "--repair reads rows again by key, which an export cannot do; `backfill run` repairs from an export (it writes only what differs)")
        }
    }
}
