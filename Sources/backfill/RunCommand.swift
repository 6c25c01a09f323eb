import ArgumentParser
import BackfillCore
import Foundation

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a backfill: resumes the latest unfinished run of the spec, or starts a new one.")

    @Argument(help: "The job spec (YAML).")
    var spec: String

    @Flag(help: "Read, transform and compare; report per chunk what would be written; write nothing.")
    var dryRun = false

    @Option(parsing: .unconditional, help: "Only the first N rows (a trial on a subset); the run stays resumable.")
    var limit: Int?

    @Flag(help: "When the error guard pauses the run, wait for `backfill resume` instead of exiting 4.")
    var wait = false

    @Flag(help: "Retry the quarantined rows of the job's latest run (after fixing their cause), then stop.")
    var retryQuarantined = false

    @Flag(help: "Serve the dashboard, the JSON API and /metrics while the run goes on (see `backfill serve`).")
    var serve = false

    @Flag(help: "Create the target table from the source's description when it does not exist (also target.create: true).")
    var createTarget = false

    @Flag(help: "End a completed run with proof: verify the job's range, repair what differs again through the runner, verify again (also verify.after-run: true). Exit 3 when the target is not proven equal.")
    var verify = false

    @OptionGroup var server: ServerOptions

    @OptionGroup var lease: LeaseOptions

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if verify && (dryRun || retryQuarantined) { throw ValidationError("--verify goes with a run that writes (not --dry-run or --retry-quarantined)") }
    }

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            do {
                // A retry of quarantined rows writes into a table the run already has.
                let creating: TargetCreation.Mode = retryQuarantined ? .none : dryRun ? .preview(asked: createTarget) : .create(asked: createTarget)
                try await JobWiring.withPrepared(specPath: spec, checkKey: true, creating: creating, lease: lease.duration) { prepared in
                    if retryQuarantined { return try await retry(prepared) }
                    try await execute(prepared)
                }
            } catch let missing as TargetCreation.TableToCreate {
                // A dry run creates nothing: it shows the table and what the run would do.
                if common.json {
                    print(try Output.json(TargetCreation.Preview(missing, dryRun: true)))
                } else {
                    print("dry run: " + TargetCreation.preview(missing))
                }
            }
        }
    }

    private func execute(_ prepared: PreparedJob) async throws {
        var configuration = RunnerConfiguration(spec: prepared.spec)
        configuration.limitRows = limit
        configuration.dryRun = dryRun
        configuration.waitWhenPausedByGuard = wait
        lease.apply(to: &configuration)
        if verify || prepared.spec.verify.afterRun { try AfterRunVerification.check(prepared) }
        if dryRun, !JobWiring.isPostgres(prepared.spec.statePath), FileManager.default.fileExists(atPath: prepared.spec.statePath) {
            _ = try await JobWiring.stateStore(for: prepared.spec, create: false)  // a dry run also refuses a corrupt state file
        }
        let state: OpenedState = dryRun
            ? .memory(InMemoryStateStore()) : try await JobWiring.stateStore(for: prepared.spec, create: true, lease: lease.duration)
        let (source, spec) = (prepared.source, prepared.spec)
        if let resumable = try await state.store.latestResumableRun(job: prepared.spec.name), resumable.specFingerprint == prepared.spec.fingerprint {
            try await source.checkResumable(try await state.store.chunks(runID: resumable.id).filter { $0.status != .done }.map(\.range))
        }
        let (run, resumed) = try await RunStarter(state: state.store).startOrResume(spec: prepared.spec, specText: prepared.loaded.text) {
            try await Planner.chunks(of: source, for: spec)
        }
        if resumed && !common.json {
            print("resuming run \(run.id) of \(run.job) (\(Output.number(run.counters.read)) rows already read)")
        }
        var execution = RunExecution(prepared: prepared, state: state, configuration: configuration, common: common, server: serve ? server : nil)
        execution.verify = !dryRun && (verify || prepared.spec.verify.afterRun)
        try await execution.execute(run)
    }
}

extension RunCommand {
    func retry(_ prepared: PreparedJob) async throws {
        let state = try await JobWiring.stateStore(for: prepared.spec, create: false).store
        guard let run = try await state.newestRun(job: prepared.spec.name) else {
            throw BackfillError(.invalidInput, "job '\(prepared.spec.name)' has no run to retry", location: prepared.spec.statePath)
        }
        let outcome = try await QuarantineRetrier(
            job: prepared.job, source: prepared.source, sink: prepared.sink, state: state, logger: LogBootstrap.logger()
        ).retry(runID: run.id)
        if common.json {
            print(try Output.json(outcome))
        } else {
            print("run \(run.id): retried \(Output.number(outcome.retried)) quarantined rows")
            print("  written     \(Output.number(outcome.outcome.inserted + outcome.outcome.updated)) (inserted \(outcome.outcome.inserted), updated \(outcome.outcome.updated))")
            print("  equal       \(Output.number(outcome.outcome.unchanged)) · skipped by a guard \(Output.number(outcome.outcome.skipped))")
            print("  gone from the source \(Output.number(outcome.goneFromSource)) · still failing \(Output.number(outcome.stillFailing)) · not retryable \(Output.number(outcome.notRetryable))")
        }
        if outcome.stillFailing > 0 { throw ExitCode(ExitStatus.failed) }
    }
}

/// The human-readable end-of-run summary.
enum RunSummaryText {
    static func render(_ summary: RunSummary) -> String {
        var lines: [String] = []
        let what = summary.dryRun ? "dry run of \(summary.job)" : "run \(summary.runID) of \(summary.job)"
        let status: String
        switch summary.stop {
        case _ where summary.dryRun: status = "compared (nothing written)"
        case .limitReached?: status = "stopped at --limit (status planned; the next run continues)"
        default: status = summary.status.rawValue
        }
        lines.append("\(what): \(status) in \(Output.seconds(summary.seconds))")
        if let reason = summary.reason { lines.append("  \(reason)") }
        if summary.dryRun {
            lines.append("  per chunk, what a run would do:")
            lines.append("  chunk  range                                   read  insert  update  unchanged  skip  quarantine")
            for chunk in summary.chunks {
                let c = chunk.counters
                let range = Output.range(chunk.range)
                lines.append(
                    "  " + [
                        pad("\(chunk.index)", 5), pad(range, 34, left: true), pad(Output.number(c.read), 10),
                        pad(Output.number(c.inserted), 7), pad(Output.number(c.updated), 7),
                        pad(Output.number(c.unchanged), 10), pad(Output.number(c.skipped), 5),
                        pad(Output.number(c.quarantined), 11),
                    ].joined(separator: " "))
            }
        }
        lines.append(Output.counters(summary.counters))
        lines.append(
            "  throughput  \(Output.number(Int(summary.rowsPerSecond))) rows/s · failure rate "
                + String(format: "%.2f%%", summary.failureRate * 100) + " · \(summary.chunks.count) chunks")
        if !summary.errorsByType.isEmpty {
            let types = summary.errorsByType.sorted { $0.key < $1.key }.map { "\($0.key) \(Output.number($0.value))" }
            lines.append("  errors by type: " + types.joined(separator: " · ") + " · retries \(Output.number(summary.counters.retries))")
        }
        if summary.counters.quarantined > 0, !summary.dryRun {
            lines.append("  \(Output.number(summary.counters.quarantined)) rows in quarantine (exit 5 unless limits.accept-quarantined): backfill quarantine \(summary.runID)")
        }
        return lines.joined(separator: "\n")
    }

    private static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let count = text.count
        guard count < width else { return text }
        let spaces = String(repeating: " ", count: width - count)
        return left ? text + spaces : spaces + text
    }
}
