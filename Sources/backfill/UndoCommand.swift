import ArgumentParser
import BackfillCore
import Foundation
import Logging

/// `backfill undo RUN`: takes back what a journaled run wrote, through the runner.
struct UndoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo",
        abstract: "Take back what a journaled run wrote: rows it updated get their before-images back, rows it inserted are deleted.",
        discussion: """
            Only rows that still hold exactly what the run wrote are changed; a row changed since (live \
            traffic) is left alone and counted as a conflict. The undo is a run itself (job NAME.undo-RUN): \
            checkpointed, resumable after a crash by running the same command again, journaled — so it can \
            be undone in turn. Exit 0 when every entry was taken back, 3 when conflicts were left alone.
            """)

    @Argument(help: "The run to take back.")
    var run: Int64

    @Flag(help: "Count what would be put back, deleted and left alone as conflicts; change nothing.")
    var dryRun = false

    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let journaled = try await JournaledRun.open(run, statePath: stateOptions.state)
            let (state, record, spec) = (journaled.state, journaled.record, journaled.spec)
            guard record.status.isResumable == false || record.status == .paused else {
                throw BackfillError(
                    .invalidInput, "run \(run) is \(record.status.rawValue); pause or cancel it first (backfill pause \(run))",
                    location: Redaction.redact(stateOptions.state))
            }
            let (journal, close) = try await journaled.openJournal()
            defer { close() }
            try journaled.checkTarget(try await journal.summary(of: record))
            let undoJob = String("\(record.job).undo-\(run)".prefix(100))
            let endpoints = try await journal.undoEndpoints(of: record)
            let (source, sink, entries) = (endpoints.source, endpoints.sink, endpoints.entries)
            let undoSpec = Self.undoSpec(of: spec, job: undoJob)
            let job = ResolvedJob(
                spec: undoSpec, columns: ["backfill_seq"],
                targetColumns: [ColumnDescription(name: "backfill_seq", declaredType: "bigint", notNull: true)])
            // The undo stores the spec of the run it takes back: undoing the undo reads the same target from it.
            let (undoRun, resumed) = try await RunStarter(state: state).startOrResume(spec: undoSpec, specText: journaled.specText) {
                try await source.plan(workers: 1)
            }
            var configuration = RunnerConfiguration(spec: undoSpec)
            configuration.dryRun = dryRun
            let summary = try await Runner(
                job: job, source: source, sink: sink, state: state, configuration: configuration, logger: Logger(label: "backfill")
            ).execute(run: undoRun)
            // What the undo run journaled (across every process that ran it); a dry run's own tally.
            let would = endpoints.tally.total
            let done = dryRun
                ? JournalSummary(inserted: would.reinserted, updated: would.restored, deleted: would.deleted)
                : try await journal.summary(of: undoRun)
            // Rows the undone run changed that do not hold their before-images now: the conflicts, by key.
            let unrestored = !dryRun && summary.counters.skipped > 0 ? try await journal.unrestored(of: record, limit: Self.listedConflicts) : []
            let outcome = UndoOutcome(
                run: run, undoRun: undoRun.id, resumed: resumed, dryRun: dryRun, status: summary.status.rawValue, entries: entries,
                restored: done.updated, deleted: done.deleted, reinserted: done.inserted,
                wouldChange: dryRun ? summary.counters.inserted + summary.counters.updated : 0,
                alreadyUndone: summary.counters.unchanged, conflicts: summary.counters.skipped, conflictKeys: unrestored.map(\.key))
            if common.json {
                print(try Output.json(outcome))
            } else {
                print(outcome.text)
            }
            if summary.status != .completed { throw ExitCode(4) }
            if outcome.conflicts > 0 { throw ExitCode(3) }
        }
    }

    /// How many conflicts the outcome names by key.
    static let listedConflicts = 20

    /// The undo's own job: the journal entries of the run as its source, the same target.
    static func undoSpec(of spec: JobSpec, job: String) -> JobSpec {
        var undo = JobSpec(
            name: job, source: spec.target, target: spec.target, key: ["backfill_seq"], columns: ["backfill_seq"], mode: .upsert,
            batch: spec.batch, workers: 1, limits: spec.limits, state: spec.state, baseDirectory: spec.baseDirectory)
        undo.journal = spec.journal
        return undo
    }
}

/// What `backfill undo` did (`--json`).
struct UndoOutcome: Codable {
    var run: Int64
    var undoRun: Int64
    var resumed: Bool
    var dryRun: Bool
    var status: String
    /// Rows the run's journal entries stand for: one per entry, a `COPY`ed batch's entry its rows.
    var entries: Int
    /// Rows put back to their before-images, deleted (the run inserted them), inserted again (the
    /// run deleted them); with `--dry-run`, the rows that would be.
    var restored: Int
    var deleted: Int
    var reinserted: Int
    /// With `--dry-run`: rows that would be changed.
    var wouldChange: Int
    var alreadyUndone: Int
    /// Rows changed since the run wrote them: left alone.
    var conflicts: Int
    /// The keys of the first conflicts (at most `UndoCommand.listedConflicts`), each column as text.
    var conflictKeys: [[String?]]

    var text: String {
        var lines = ["\(dryRun ? "dry run: " : "")undo of run \(run) (run \(undoRun)\(resumed ? ", resumed" : "")): \(status)"]
        lines.append("  journaled rows    \(Output.number(entries))")
        if dryRun {
            lines.append("  would change      \(Output.number(wouldChange))")
            lines.append("    restore         \(Output.number(restored))  (rows the run updated, back to what they held)")
            lines.append("    delete          \(Output.number(deleted))  (rows the run inserted)")
            lines.append("    insert again    \(Output.number(reinserted))  (rows the run deleted)")
        } else {
            lines.append("  restored          \(Output.number(restored))  (rows the run updated, back to what they held)")
            lines.append("  deleted           \(Output.number(deleted))  (rows the run inserted)")
            if reinserted > 0 { lines.append("  inserted again    \(Output.number(reinserted))  (rows the run deleted)") }
        }
        lines.append("  already undone    \(Output.number(alreadyUndone))")
        lines.append("  conflicts         \(Output.number(conflicts))  (changed since the run wrote them; left alone)")
        for key in conflictKeys { lines.append("    \(Output.key(key.map { $0.map(Value.text) ?? .null }))") }
        if conflicts > conflictKeys.count, !conflictKeys.isEmpty { lines.append("    … \(Output.number(conflicts - conflictKeys.count)) more") }
        return lines.joined(separator: "\n")
    }
}
