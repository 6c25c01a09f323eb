import ArgumentParser
import BackfillCore
import BackfillPostgres
import BackfillSQLite
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove the target equals the source: checksums per chunk, bisection, every difference with its key.",
        discussion: "Exit 0 when equal, 3 when anything differs (rows newer in the target under newer-wins are reported, not counted).")

    @Argument(help: "The job spec (YAML).")
    var spec: String

    @Option(help: "At most this many differences listed (all are counted; the text says how many more there are).")
    var limit = 100

    @Flag(help: "Backfill exactly the missing and different keys through the normal runner, then verify again.")
    var repair = false

    @Flag(help: "With --repair: also delete rows that exist only in the target.")
    var deleteExtra = false

    func validate() throws {
        if deleteExtra && !repair { throw ValidationError("--delete-extra goes with --repair") }
    }

    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let prepared = try await JobWiring.prepare(specPath: spec, checkKey: false)
            let spec = prepared.spec
            if spec.source.kind == .csv || spec.source.kind == .jsonl {
                return try await verifyExport(prepared)
            }
            let tables: Set<Endpoint.Kind> = [.sqlite, .postgres]
            guard tables.contains(spec.source.kind), tables.contains(spec.target.kind),
                let source = prepared.source as? any QueryableTable, spec.mode != .updateInPlace
            else {
                throw BackfillError(.invalidInput, "verify compares a SQLite or PostgreSQL table, or a CSV/JSONL export, with a SQLite or PostgreSQL table; \(spec.source.kind.rawValue) → \(spec.target.kind.rawValue) (mode \(spec.mode.rawValue)) is not supported")
            }
            let fullTarget = try await Self.targetTable(prepared, columns: prepared.job.columns)
            try await Self.checkKeyTypes(prepared, source: source)
            let compared = Self.comparedJob(prepared)
            let target = try await Self.targetTable(prepared, columns: compared.columns)
            let comparedSource = try await Self.sourceTable(prepared, columns: compared.columns)
            var verifier = Verifier(job: compared, source: comparedSource, target: target)
            verifier.reportLimit = limit
            verifier.collectKeys = repair
            if spec.source.kind != spec.target.kind {
                // Across engines the checksums cannot agree: both sides are read in key order and
                // compared as the run compares them (into PostgreSQL: in canonical form).
                verifier.checksumsInEngine = false
                verifier.canonical = try await Self.canonicalKinds(comparedSource, target)
            }
            // Planned on the side read in byte order, so that chunk edges follow the order rows are merged in.
            let chunks = try await comparedSource.plan(workers: spec.workers)
            var report = try await verifier.verify(chunks: chunks)
            if repair && !report.equal {
                let repaired = try await VerifyRepair(prepared: prepared, source: source, deleteExtra: deleteExtra).run(report)
                if !common.json { print(VerifyText.render(report) + "\n" + repaired) }
                verifier.collectKeys = false
                report = try await verifier.verify(chunks: chunks)
            }
            let canonical = spec.source.kind != spec.target.kind ? try await Self.canonicalKinds(source, fullTarget) : nil
            try await checkExtras(&report, source: source, target: fullTarget, job: prepared.job, canonical: canonical)
            report.conclude()
            try await record(report, spec: spec)
            print(common.json ? try Output.json(report) : VerifyText.render(report))
            if !report.equal { throw ExitCode(ExitStatus.differences) }
        }
    }
}

extension VerifyCommand {
    /// A CSV/JSONL export against a SQLite table.
    func verifyExport(_ prepared: PreparedJob) async throws {
        let spec = prepared.spec
        guard spec.verify.spotCheck == nil, spec.verify.queries.isEmpty else {
            throw BackfillError(.invalidSpec, "verify.spot-check and verify.queries need a database source; a \(spec.source.kind.rawValue) export has none")
        }
        guard !repair else {
            throw BackfillError(.invalidInput, "--repair reads rows again by key, which an export cannot do; `backfill run` repairs from an export (it writes only what differs)")
        }
        guard spec.target.kind == .sqlite || spec.target.kind == .postgres else {
            throw BackfillError(.invalidInput, "verify compares an export with a SQLite or PostgreSQL table; a \(spec.target.kind.rawValue) target is not supported")
        }
        let compared = Self.comparedJob(prepared)
        let target = try await Self.targetTable(prepared, columns: compared.columns)
        let source = try await JobWiring.openSource(spec, columns: compared.columns, connections: PostgresConnections(spec))
        var verifier = ExportVerifier(job: compared, source: source, target: target)
        verifier.reportLimit = limit
        if let target = target as? PostgresSource {
            // Export values are text: numeric scale, time zones and JSON spacing compare in canonical form.
            verifier.canonical = try await target.canonicalKinds()
        }
        var report = try await verifier.verify()
        report.conclude()
        try await record(report, spec: spec)
        print(common.json ? try Output.json(report) : VerifyText.render(report))
        if !report.equal { throw ExitCode(ExitStatus.differences) }
    }

    /// The source table reading `columns`.
    static func sourceTable(_ prepared: PreparedJob, columns: [String]) async throws -> any QueryableTable {
        let spec = prepared.spec
        switch prepared.source {
        case let source as SQLiteSource: return source.selecting(columns)
        case let source as PostgresSource: return try await source.selecting(columns).inKeyByteOrder()
        default: throw BackfillError(.invalidInput, "verify cannot read a \(spec.source.kind.rawValue) source as a table")
        }
    }

    /// The target table read like a source (same key and range), reading `columns`.
    static func targetTable(_ prepared: PreparedJob, columns: [String]) async throws -> any QueryableTable {
        let spec = prepared.spec
        guard let table = spec.target.table else { throw BackfillError(.invalidInput, "verify needs a target table") }
        switch prepared.sink {
        case is SQLiteSink:
            return try SQLiteSource(path: spec.resolve(path: spec.target.location), table: table, key: spec.key, range: spec.range)
                .selecting(columns)
        case let sink as PostgresSink:
            return try await PostgresSource(database: sink.database, table: table, key: spec.key, range: spec.range)
                .selecting(columns).inKeyByteOrder()
        default:
            throw BackfillError(.invalidInput, "verify cannot read a \(spec.target.kind.rawValue) target as a table")
        }
    }

    /// The canonical kinds of the compared columns when the target is PostgreSQL and the source is
    /// not: PostgreSQL parsed the source's values into its own types (and prints them its own way),
    /// so both sides are compared in the canonical form of the PostgreSQL column's type. Into SQLite
    /// nothing is re-printed: the source's values, typed as a run types them, are compared with the
    /// stored ones exactly as the run's change detection compares them (`nil`).
    static func canonicalKinds(_ source: any VerifiableTable, _ target: any VerifiableTable) async throws -> [CanonicalKind]? {
        guard let target = target as? PostgresSource, !(source is PostgresSource) else { return nil }
        return try await target.canonicalKinds()
    }

    /// The job `verify` compares: every copied column, or the key, the `newer-wins` column and the
    /// `verify.key-fields`.
    static func comparedJob(_ prepared: PreparedJob) -> ResolvedJob {
        let spec = prepared.spec
        guard let fields = spec.verify.keyFields else { return prepared.job }
        let wanted = spec.key + fields + (spec.newerWins.map { [$0] } ?? [])
        let columns = prepared.job.columns.filter { column in
            wanted.contains { $0.caseInsensitiveCompare(column) == .orderedSame }
        }
        return ResolvedJob(
            spec: spec, columns: columns,
            targetColumns: columns.map { name in prepared.job.targetColumns.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }! })
    }

    /// Key columns must have the same type affinity on both sides: the two tables are walked in key
    /// order, and `1` and `'1'` sort apart, so mixed affinities would pair the wrong rows.
    static func checkKeyTypes(_ prepared: PreparedJob, source: any QueryableTable) async throws {
        let sourceTable = try await source.describe()
        for index in prepared.job.keyIndices {
            let name = prepared.job.columns[index]
            let target = prepared.job.targetColumns[index].affinity
            if let column = sourceTable.column(named: name), column.affinity != target {
                throw BackfillError(
                    .invalidInput,
                    "key column '\(name)' is \(column.affinity) in the source but \(target) in the target; verify walks both in key order and cannot pair rows whose keys sort differently")
            }
        }
    }

    /// `verify.spot-check` and `verify.queries`.
    func checkExtras(
        _ report: inout VerifyReport, source: any QueryableTable, target: any QueryableTable, job: ResolvedJob, canonical: [CanonicalKind]?
    ) async throws {
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

    /// Records the result on the job's latest run, when a state store with one exists.
    func record(_ report: VerifyReport, spec: JobSpec) async throws {
        guard spec.statePath.contains("://") || FileManager.default.fileExists(atPath: spec.statePath) else { return }
        let state = try await JobWiring.stateStore(for: spec, create: false)
        guard let run = try await state.runs(limit: 1000).first(where: { $0.job == spec.name }) else { return }
        try await state.recordVerification(runID: run.id, VerificationSummary(report))
        try await state.recordEvent(
            runID: run.id, kind: "verified",
            message: report.equal ? "verify: equal" : "verify: \(report.missing) missing, \(report.extra) extra, \(report.different) different")
    }
}

/// `verify --repair`: a backfill run over exactly the differing keys, through the normal runner (so
/// every control applies), and, with `--delete-extra`, deletion of rows only the target has.
struct VerifyRepair {
    let prepared: PreparedJob
    let source: any QueryableTable
    let deleteExtra: Bool

    /// Runs the repair; returns what it did, as text.
    func run(_ report: VerifyReport) async throws -> String {
        var spec = prepared.spec
        spec.name = String((spec.name + ".repair").prefix(100))
        var job = prepared.job
        job.spec = spec
        let keys = report.repairKeys ?? []
        let state = try await JobWiring.stateStore(for: spec, create: true)
        // A repair is planned from this verification: an older unfinished one holds other keys.
        while let stale = try await state.latestResumableRun(job: spec.name) {
            var machine = RunStateMachine(status: stale.status)
            for case .persist(let change) in machine.handle(.superseded) { try await state.apply(change, runID: stale.id) }
        }
        let keySource = KeyListSource(base: source, keys: keys, keyIndices: job.keyIndices)
        let run = try await state.createRun(NewRun(
            job: spec.name, specFingerprint: spec.fingerprint, chunks: try await keySource.plan(workers: 1),
            owner: RunStarter.currentProcess))
        try await state.recordEvent(runID: run.id, kind: "started", message: "repair of \(keys.count) keys found by verify")
        let summary = try await Runner(
            job: job, source: keySource, sink: prepared.sink, state: state, configuration: RunnerConfiguration(spec: spec),
            logger: LogBootstrap.logger()
        ).execute(run: run)
        var lines = ["repair run \(summary.runID) (\(spec.name)): \(summary.status.rawValue)", Output.counters(summary.counters)]
        if deleteExtra, let extra = report.extraKeys, !extra.isEmpty, let sink = prepared.sink as? any DeletingSink {
            // Safety net: never delete a row whose key the source of truth still has (a collation or
            // type that pairs keys differently from verify's byte order must not cost data).
            let present = Set((try await source.fetch(keys: extra) ?? []).map { job.key(of: $0) })
            let absent = extra.filter { !present.contains($0) }
            lines.append("  deleted \(Output.number(try await sink.delete(keys: absent))) rows only in the target")
            if absent.count < extra.count {
                lines.append("  kept \(Output.number(extra.count - absent.count)) rows the source still has by key")
            }
        } else if let extra = report.extraKeys, !extra.isEmpty {
            lines.append("  \(Output.number(extra.count)) rows only in the target kept (--delete-extra deletes them)")
        }
        if summary.status != .completed { throw ExitCode(ExitStatus.code(for: summary.status)) }
        return lines.joined(separator: "\n")
    }
}

enum VerifyText {
    static func render(_ report: VerifyReport) -> String {
        var lines = [
            "verify \(report.job): " + (report.equal ? "EQUAL" : "DIFFERENT") + " in \(Output.seconds(report.seconds))",
            "  source \(Output.number(report.sourceRows)) rows · target \(Output.number(report.targetRows)) rows",
            "  missing in target \(Output.number(report.missing)) · extra in target \(Output.number(report.extra)) · different \(Output.number(report.different)) · newer in target \(Output.number(report.newerInTarget))",
            "  ranges compared by checksum \(Output.number(report.rangesCompared)) · listed row by row \(Output.number(report.rangesListed))",
        ]
        if report.unreadableSourceRecords > 0 {
            lines.append("  export records not compared (malformed, untypeable, NULL or duplicate key): \(Output.number(report.unreadableSourceRecords))")
        }
        if report.spotChecked > 0 {
            lines.append("  spot check: \(report.spotChecked) random keys, \(report.spotMismatches.count) mismatches")
        }
        for query in report.queries {
            lines.append("  query \(query.name): " + (query.equal ? "equal" : "DIFFERENT (source \(query.source), target \(query.target))"))
        }
        for difference in report.differences + report.spotMismatches {
            let columns = difference.columns.isEmpty ? "" : " (" + difference.columns.joined(separator: ", ") + ")"
            lines.append("  \(difference.kind.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) key \(Output.key(difference.key))\(columns)")
        }
        let unlisted = report.missing + report.extra + report.different + report.newerInTarget - report.differences.count
        if unlisted > 0 {
            lines.append("  … and \(Output.number(unlisted)) more not listed (the first \(Output.number(report.differences.count)) are; --limit N lists more)")
        }
        return lines.joined(separator: "\n")
    }
}
