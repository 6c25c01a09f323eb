import ArgumentParser
import BackfillCore
import BackfillHTTP
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove the target equals the source: checksums per chunk, bisection, every difference with its key.",
        discussion: """
            Exit 0 when equal, 3 when anything differs (rows newer in the target under newer-wins are reported, not counted). \
            On an events job (webhook or JSONL target): the proof of delivery — every source event against the ledger or the file; \
            exit 3 when any was refused or never delivered.
            """)

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
            try await JobWiring.withPrepared(specPath: spec, checkKey: false) { prepared in
                if prepared.spec.events != nil { return try await verifyDeliveries(prepared) }
                let (report, repaired): (VerifyReport, RepairOutcome?) = switch prepared.opened.table {
                case nil: (try await verifyExport(prepared), nil)
                case let source?: try await verifyTables(prepared, source: source)
                }
                try await record(report, repair: repaired, spec: prepared.spec)
                if common.json { try Output.printJSON(report) } else { print(VerifyText.render(report)) }
                if !report.equal { throw ExitCode(ExitStatus.differences) }
            }
        }
    }
}

extension VerifyCommand {
    /// A SQLite or PostgreSQL table against a SQLite or PostgreSQL table, repaired with `--repair`.
    /// - Returns: the last verification and the repair before it.
    private func verifyTables(_ prepared: PreparedJob, source: any VerifySide) async throws -> (VerifyReport, RepairOutcome?) {
        let spec = prepared.spec
        try TableVerification.refuseUncomparable(spec)
        guard let target = try await prepared.target.table(spec, columns: prepared.job.columns) else {
            throw BackfillError(.invalidInput, "verify needs a SQLite or PostgreSQL target table; \(spec.target.kind.rawValue) has none")
        }
        var verification = try TableVerification(job: prepared.job, source: source, target: target)
        verification.comparer = prepared.comparer
        verification.reportLimit = limit
        var repairer: VerifyRepair?
        if repair {
            repairer = VerifyRepair(
                state: try await JobWiring.stateStore(for: spec, create: true).store, sink: prepared.sink,
                deleting: deleteExtra ? prepared.target.deleting : nil, logger: LogBootstrap.logger(), specText: prepared.loaded.text)
        }
        let outcome = try await verification.run(repair: repairer)
        if let repaired = outcome.repair {
            if !common.json { print(VerifyText.render(repaired.before) + "\n" + VerifyText.render(repaired)) }
            if repaired.summary.status != .completed { throw ExitCode(ExitStatus.code(for: repaired.summary.status)) }
        }
        return (outcome.report, outcome.repair)
    }

    /// A CSV/JSONL export against a SQLite or PostgreSQL table.
    private func verifyExport(_ prepared: PreparedJob) async throws -> VerifyReport {
        let spec = prepared.spec
        try ExportVerifier.refuseUnsupported(spec, repair: repair)
        let compared = TableVerification.comparedJob(prepared.job)
        guard let target = try await prepared.target.table(spec, columns: compared.columns) else {
            throw BackfillError(.invalidInput, "verify compares an export with a SQLite or PostgreSQL table; a \(spec.target.kind.rawValue) target is not supported")
        }
        let source = try await JobWiring.openSource(spec, columns: compared.columns, connections: prepared.connections)
        var verifier = ExportVerifier(job: compared, source: source.reader, target: target)
        verifier.reportLimit = limit
        // Export values are text: numeric scale, time zones and JSON spacing compare in canonical form.
        verifier.canonical = try await target.canonicalKindsAcrossEngines()
        var report = try await verifier.verify()
        report.conclude()
        return report
    }

    /// An events job: the source's events against the deliveries (the ledger of a webhook target, the
    /// file of a JSONL one), `--repair` offering the undelivered ones again through the runner.
    private func verifyDeliveries(_ prepared: PreparedJob) async throws {
        let spec = prepared.spec
        if deleteExtra {
            throw BackfillError(.invalidInput, "--delete-extra deletes rows of a table target; delivered events cannot be taken back")
        }
        var verifier = try DeliveryVerifier(job: prepared.job, source: prepared.source)
        verifier.reportLimit = limit
        func check() async throws -> DeliveryReport {
            // No state store yet: nothing was delivered to a webhook, and nothing refused.
            let state = try await Self.existingStateStore(spec)
            let delivered: Set<String>
            if spec.target.kind == .jsonl {
                delivered = try JSONLEventSink.deliveredIDs(path: spec.resolve(path: spec.target.location), job: prepared.job)
            } else {
                delivered = try await state?.ledger(job: spec.name).allIDs() ?? []
            }
            var refused: [String: String] = [:]
            if let state { refused = try await verifier.refusals(in: state) }
            return try await verifier.verify(delivered: delivered, refused: refused)
        }
        var report = try await check()
        var repaired: RepairOutcome?
        if repair, !report.complete {
            guard let source = prepared.opened.table else {
                throw BackfillError(.invalidInput, "--repair reads events again by key, which an export cannot do; `backfill run` offers them again")
            }
            let state = try await JobWiring.stateStore(for: spec, create: true).store
            let repairer = VerifyRepair(
                state: state, sink: JobWiring.sink(prepared, state: state), deleting: nil, logger: LogBootstrap.logger(), specText: prepared.loaded.text)
            let outcome = try await verifier.repair(report, with: repairer, source: source)
            if !common.json { print(DeliveryText.render(report) + "\n" + VerifyText.render(outcome)) }
            repaired = outcome
            report = try await check()
        }
        try await record(report.verifyReport, repair: repaired, spec: spec)
        print(common.json ? try Output.json(report) : DeliveryText.render(report))
        if !report.complete { throw ExitCode(ExitStatus.differences) }
    }

    /// Records the result (and the repair before it) on the job's latest run, when a state store with one exists.
    private func record(_ report: VerifyReport, repair: RepairOutcome?, spec: JobSpec) async throws {
        try await Self.existingStateStore(spec)?.recordVerification(report, repair: repair, job: spec.name)
    }

    /// The spec's state store when one exists (a PostgreSQL store, or a SQLite file already made); `nil` otherwise.
    private static func existingStateStore(_ spec: JobSpec) async throws -> (any StateStore)? {
        guard spec.statePath.contains("://") || FileManager.default.fileExists(atPath: spec.statePath) else { return nil }
        return try await JobWiring.stateStore(for: spec, create: false).store
    }
}

enum DeliveryText {
    /// `answers: 200 ×1,000 · 429 ×37 · no answer ×3; retries per event: 0 ×960 · 1 ×30 · 2 ×8 · 3+ ×2`;
    /// `nil` before any request.
    static func line(_ counts: DeliveryStats.Counts) -> String? {
        guard !counts.answers.isEmpty else { return nil }
        let statuses = counts.answers.sorted { $0.key < $1.key }.map { status, count in
            (status == 0 ? "no answer" : String(status)) + " ×" + Output.number(count)
        }
        var buckets: [(String, Int)] = (0..<3).compactMap { n in counts.retries[n].map { (String(n), $0) } }
        let more = counts.retries.filter { $0.key >= 3 }.values.reduce(0, +)
        if more > 0 { buckets.append(("3+", more)) }
        let histogram = buckets.map { "\($0.0) ×" + Output.number($0.1) }
        return "answers: " + statuses.joined(separator: " · ") + "; retries per event: " + histogram.joined(separator: " · ")
    }

    static func render(_ report: DeliveryReport) -> String {
        var lines = [
            "verify \(report.job): " + (report.complete ? "EVERY EVENT DELIVERED" : "EVENTS MISSING") + " in \(Output.seconds(report.seconds))",
            "  source \(Output.number(report.sourceEvents)) events · delivered \(Output.number(report.delivered))"
                + " · refused \(Output.number(report.refused)) · never delivered \(Output.number(report.neverDelivered))",
            "  delivered but no longer in the source \(Output.number(report.deliveredNotInSource))",
        ]
        if report.unreadableSourceRecords > 0 {
            lines.append("  source records not read (malformed): \(Output.number(report.unreadableSourceRecords))")
        }
        for event in report.undelivered {
            let what = event.refusal.map { "refused          id \(event.id): \($0)" } ?? "never delivered  id \(event.id)"
            lines.append("  " + what)
        }
        for id in report.notInSource { lines.append("  not in source    id \(id)") }
        let unlisted = report.refused + report.neverDelivered + report.deliveredNotInSource - report.undelivered.count - report.notInSource.count
        if unlisted > 0 { lines.append("  … and \(Output.number(unlisted)) more not listed (--limit N lists more)") }
        return lines.joined(separator: "\n")
    }
}

enum VerifyText {
    /// What a repair did.
    static func render(_ repair: RepairOutcome) -> String {
        let summary = repair.summary
        var lines = ["repair run \(summary.runID) (\(summary.job)): \(summary.status.rawValue)", Output.counters(summary.counters)]
        if repair.deleted > 0 || repair.keptBySource > 0 {
            lines.append("  deleted \(Output.number(repair.deleted)) rows only in the target")
        }
        if repair.keptBySource > 0 {
            lines.append("  kept \(Output.number(repair.keptBySource)) rows the source still has by key")
        }
        if repair.extraKept > 0 {
            lines.append("  \(Output.number(repair.extraKept)) rows only in the target kept (--delete-extra deletes them)")
        }
        return lines.joined(separator: "\n")
    }

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
