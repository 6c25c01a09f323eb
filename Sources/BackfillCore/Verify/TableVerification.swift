import Foundation

/// `verify` of a table job: per chunk, count and checksum inside both engines (across engines:
/// both sides read in key order and compared as a run compares them), bisection down to the
/// differing rows, then the spec's spot check and queries. With a `VerifyRepair`, the differing
/// keys are backfilled through the normal runner and the job verified again.
public struct TableVerification: Sendable {
    public let job: ResolvedJob
    /// The source, reading the job's columns.
    public let source: any VerifySide
    /// The target read like a source (same key and range), reading the job's columns.
    public let target: any VerifySide
    /// At most this many differences listed (all are counted).
    public var reportLimit = 100
    /// Across engines: skips chunks both engines hash alike (the run's `WindowRangeComparer`).
    public var comparer: (any RangeComparer)?

    /// - Throws: `BackfillError` `.invalidInput` for a job verify cannot compare (`refuseUncomparable`).
    public init(job: ResolvedJob, source: any VerifySide, target: any VerifySide) throws {
        try Self.refuseUncomparable(job.spec)
        self.job = job
        self.source = source
        self.target = target
    }

    /// Refuses a job whose target verify cannot compare: one that is not a SQLite or PostgreSQL
    /// table (events, webhooks), or an `update-in-place` job (its target holds values the source
    /// does not). The one check behind `verify`, `run --verify` and `verify.after-run`.
    /// - Parameter asked: how the user asked for the verification, as the message names it.
    /// - Throws: `BackfillError` `.invalidInput` saying why.
    public static func refuseUncomparable(_ spec: JobSpec, asked: String = "verify") throws {
        guard spec.target.kind.isTable else {
            throw BackfillError(.invalidInput, "\(asked) compares a SQLite, PostgreSQL or MySQL table; a \(spec.target.kind.rawValue) target has no rows to compare")
        }
        guard spec.mode != .updateInPlace else {
            throw BackfillError(.invalidInput, "\(asked) cannot compare an update-in-place job: its target holds values the source does not")
        }
    }

    /// Verifies the job; with `repair`, repairs what differs and verifies again. When the repair
    /// run does not complete, the outcome holds the first report and the repair as it ended.
    public func run(repair: VerifyRepair? = nil) async throws -> VerifyOutcome {
        try await checkKeyTypes()
        let compared = Self.comparedJob(job)
        let comparedSource = try await source.comparing(compared.columns)
        let comparedTarget = try await target.comparing(compared.columns)
        let acrossEngines = job.spec.source.kind != job.spec.target.kind
        var verifier = Verifier(job: compared, source: comparedSource, target: comparedTarget)
        verifier.reportLimit = reportLimit
        verifier.collectKeys = repair != nil
        if acrossEngines {
            // Across engines the checksums cannot agree: rows are compared as the run compares them.
            verifier.checksumsInEngine = false
            verifier.canonical = try await comparedTarget.canonicalKindsAcrossEngines()
            verifier.rangeComparer = comparer
        } else if job.spec.target.kind == .mysql {
            // Values are compared as the run compares them (`1.50` equals `1.5000`). A MySQL row
            // hash encodes each value by its column's type: two tables that declare other types
            // could hash different rows alike, so their rows are streamed and compared instead.
            verifier.canonical = try await comparedTarget.canonicalKindsAcrossEngines()
            if try await !Self.declareSameTypes(compared.columns, comparedSource, comparedTarget) { verifier.checksumsInEngine = false }
        }
        // Planned on the side read in byte order, so that chunk edges follow the order rows are merged in.
        let chunks = try await comparedSource.plan(workers: job.spec.workers)
        var report = try await verifier.verify(chunks: chunks)
        var repaired: RepairOutcome?
        if let repair, !report.equal {
            let outcome = try await repair.run(report, job: job, source: source)
            guard outcome.summary.status == .completed else { return VerifyOutcome(report: report, repair: outcome) }
            repaired = outcome
            verifier.collectKeys = false
            report = try await verifier.verify(chunks: chunks)
        }
        try await checkExtras(&report, canonical: verifier.canonical == nil ? nil : try await target.canonicalKindsAcrossEngines())
        report.conclude()
        return VerifyOutcome(report: report, repair: repaired)
    }

    /// The job `verify` compares: every copied column, or the key, the `newer-wins` column and the
    /// `verify.key-fields`.
    public static func comparedJob(_ job: ResolvedJob) -> ResolvedJob {
        let spec = job.spec
        guard let fields = spec.verify.keyFields else { return job }
        let wanted = spec.key + fields + (spec.newerWins.map { [$0] } ?? [])
        let columns = job.columns.filter { column in
            wanted.contains { $0.caseInsensitiveCompare(column) == .orderedSame }
        }
        return ResolvedJob(
            spec: spec, columns: columns,
            targetColumns: columns.map { name in job.targetColumns.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }! })
    }

    /// Whether both tables declare the same type for each of `columns`.
    private static func declareSameTypes(_ columns: [String], _ source: any VerifySide, _ target: any VerifySide) async throws -> Bool {
        let (sourceTable, targetTable) = (try await source.describe(), try await target.describe())
        return columns.allSatisfy { name in
            guard let left = sourceTable.column(named: name), let right = targetTable.column(named: name) else { return false }
            return left.declaredType.lowercased() == right.declaredType.lowercased()
        }
    }

    /// Key columns must have the same type affinity on both sides: the two tables are walked in key
    /// order, and `1` and `'1'` sort apart, so mixed affinities would pair the wrong rows.
    private func checkKeyTypes() async throws {
        let sourceTable = try await source.describe()
        for index in job.keyIndices {
            let name = job.columns[index]
            let target = job.targetColumns[index].affinity
            if let column = sourceTable.column(named: name), column.affinity != target {
                throw BackfillError(
                    .invalidInput,
                    "key column '\(name)' is \(column.affinity) in the source but \(target) in the target; verify walks both in key order and cannot pair rows whose keys sort differently")
            }
        }
    }

    /// `verify.spot-check` and `verify.queries`.
    private func checkExtras(_ report: inout VerifyReport, canonical: [CanonicalKind]?) async throws {
        if let count = job.spec.verify.spotCheck {
            let keys = try await source.randomKeys(count)
            var verifier = Verifier(job: job, source: source, target: target)
            verifier.canonical = canonical
            try await verifier.spotCheck(keys: keys, report: &report)
        }
        for query in job.spec.verify.queries {
            report.queries.append(VerifyReport.QueryCheck(
                name: query.name, source: try await source.queryResult(query.sql), target: try await target.queryResult(query.sql)))
        }
    }
}

/// What `verify` found and, with `--repair`, what the repair did.
public struct VerifyOutcome: Sendable {
    /// The last verification (after a completed repair: the second one).
    public var report: VerifyReport
    public var repair: RepairOutcome?
}
