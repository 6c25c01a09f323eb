import ArgumentParser
import BackfillCore
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show runs: status, progress, counters, throughput.")

    @Argument(help: "A run id; all recent runs when left out.")
    var run: Int64?

    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let runs: [RunRecord]
            if let run {
                runs = [try await JobWiring.openRun(run, statePath: stateOptions.state).1]
            } else {
                runs = try await JobWiring.openState(stateOptions.state, create: false).runs(limit: 20)
            }
            if common.json {
                print(try Output.json(runs))
                return
            }
            if runs.isEmpty { print("no runs in \(Redaction.redact(stateOptions.state))") }
            for record in runs { print(RunText.render(record)) }
        }
    }
}

/// One run as text, for `status` and `report`.
enum RunText {
    /// Remaining rows at the rate measured over working time; waiting time is shown, not guessed.
    static func eta(_ run: RunRecord, rate: Int) -> String {
        guard run.status.isResumable, rate > 0 else { return "" }
        let remaining = max(0, run.estimatedRows - run.counters.read)
        return " · ETA \(Output.seconds(Double(remaining) / Double(rate))) of work"
    }

    /// Which budget or health signal binds now, since when, and the seconds each held the workers.
    static func controls(_ run: RunRecord) -> String {
        let now = run.binding.map { "\($0.signal?.rawValue ?? "") since \($0.since.formatted(.iso8601))" } ?? "none"
        let held = ControlSignal.allCases.compactMap { signal in
            run.waits.held[signal.rawValue].map { "\(signal.rawValue) \(Output.seconds($0))" }
        }
        return "  binding     \(now)" + (held.isEmpty ? "" : " · held workers: " + held.joined(separator: ", "))
    }

    static func render(_ run: RunRecord) -> String {
        let percent = run.estimatedRows > 0 ? min(100, Double(run.counters.read) * 100 / Double(run.estimatedRows)) : 100
        let rate = Int(run.rowsPerWorkingSecond)
        var lines = [
            "run \(run.id)  \(run.job)  \(run.status.rawValue)" + (run.reason.map { " — \($0)" } ?? ""),
            String(format: "  progress    %.0f%% ", percent)
                + "(\(Output.number(run.counters.read)) of ~\(Output.number(run.estimatedRows)) rows; chunks \(run.chunksDone)/\(run.chunksTotal))",
            "  throughput  \(Output.number(rate)) rows/s over \(Output.seconds(run.activeSeconds)) of work",
            "  time        \(Output.seconds(run.activeSeconds)) working · waiting \(Output.seconds(run.waits.total)): "
                + "paused \(Output.seconds(run.waits.paused)), window \(Output.seconds(run.waits.window)), "
                + "throttled \(Output.seconds(run.waits.throttled)), health \(Output.seconds(run.waits.health)), "
                + "pause file \(Output.seconds(run.waits.pauseFile))"
                + eta(run, rate: rate),
            controls(run),
            "  batches     \(Output.number(run.counters.batches))" + (run.batchSize.map { " · latest size \(Output.number($0))" } ?? "")
                + (run.knobs.rowsPerSecond.map { " · rows-per-second set to \(Output.number(Int($0)))" } ?? ""),
            "  started     \(run.createdAt.formatted(.iso8601))" + (run.finishedAt.map { " · finished \($0.formatted(.iso8601))" } ?? ""),
        ]
        lines.append(Output.counters(run.counters))
        if let verified = run.lastVerification {
            let result = verified.equal
                ? "EQUAL"
                : "DIFFERENT (missing \(verified.missing), extra \(verified.extra), different \(verified.different), spot mismatches \(verified.spotMismatches), failed queries \(verified.failedQueries.joined(separator: ", ")))"
            lines.append("  verified    \(verified.at.formatted(.iso8601)): \(result)")
            if let repair = verified.repair {
                let counters = repair.counters
                lines.append(
                    "  repaired    before it: verify found missing \(Output.number(repair.foundMissing)), extra \(Output.number(repair.foundExtra)), "
                        + "different \(Output.number(repair.foundDifferent)); repair run \(repair.runID) \(repair.status.rawValue): "
                        + "inserted \(Output.number(counters.inserted)), updated \(Output.number(counters.updated)), "
                        + "quarantined \(Output.number(counters.quarantined))" + (repair.deleted > 0 ? ", deleted \(Output.number(repair.deleted))" : ""))
            }
        }
        return lines.joined(separator: "\n")
    }
}

struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine", abstract: "List a run's quarantined rows with their reasons.")

    @Argument(help: "The run id.")
    var run: Int64

    @Option(help: "At most this many rows.")
    var limit = 100

    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let (state, _) = try await JobWiring.openRun(run, statePath: stateOptions.state)
            let rows = try await state.quarantine(runID: run, limit: limit)
            if common.json {
                print(try Output.json(rows))
                return
            }
            if rows.isEmpty { print("run \(run) has no quarantined rows") }
            for row in rows {
                let line = row.line.map { "line \($0)" } ?? "key \(Output.key(row.key))"
                let resolved = row.resolvedAt.map { "  (resolved \($0.formatted(.iso8601)))" } ?? ""
                print("\(line)  [\(row.errorType)]  \(row.reason)\(resolved)")
            }
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    /// What the API adds to a run's report, as `report` does: its journal.
    static func completing(state: any StateStore) -> @Sendable (RunReport) async -> RunReport {
        { report in
            var report = report
            do { try await addJournal(to: &report, state: state) } catch { report.journalUnavailable = String(describing: error) }
            return report
        }
    }

    /// Counts the run's journal entries in its target, when the run was journaled; a target that
    /// cannot be read leaves the report whole and says why.
    static func addJournal(to report: inout RunReport, state: any StateStore) async throws {
        guard let text = try await state.specText(runID: report.run.id),
            let spec = try? SpecLoader.parseStored(text, run: report.run.id, environment: ProcessInfo.processInfo.environment).spec,
            let journaled = JournaledRun.found(report.run, spec: spec, specText: text, state: state)
        else { return }
        do {
            let (journal, close) = try await journaled.openJournal()
            defer { close() }
            report.journal = try await journal.summary(of: report.run)
        } catch {
            report.journalUnavailable = (error as? BackfillError)?.description ?? String(describing: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "A run's full report: counters, throughput and failure rate over time, chunks, events, quarantine.")

    @Argument(help: "The run id.")
    var run: Int64

    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let (state, _) = try await JobWiring.openRun(run, statePath: stateOptions.state)
            // The text form prints a dozen steps over time; JSON carries the full series.
            guard var report = try await RunReport.load(runID: run, from: state, seriesPoints: common.json ? 240 : 12) else {
                throw BackfillError(.invalidInput, "no run \(run) in the state store")
            }
            try await Self.addJournal(to: &report, state: state)
            if common.json {
                print(try Output.json(report))
                return
            }
            let record = report.run
            print(RunText.render(record))
            print(String(format: "  failure rate %.2f%% · checkpoints %@ · retries %@", report.failureRate * 100,
                         Output.number(report.checkpoints), Output.number(record.counters.retries)))
            if let sizes = report.batchSizes {
                print("  batch size \(Output.number(sizes.latest)) (from \(Output.number(sizes.smallest)) to \(Output.number(sizes.largest)))")
            }
            if let journal = report.journal {
                print("  journal \(Output.number(journal.entries)) rows (inserted \(Output.number(journal.inserted)) · updated \(Output.number(journal.updated)) · deleted \(Output.number(journal.deleted))) · \(Output.bytes(Int(journal.bytes)))")
            } else if let why = report.journalUnavailable {
                print("  journal unavailable: \(why)")
            }
            if !report.errorsByType.isEmpty {
                print("  errors by type: " + report.errorsByType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: " · "))
            }
            if !report.series.isEmpty {
                print("  over time:")
                for step in report.series {
                    print(String(format: "    +%7.1fs  read %@  %@ rows/s  failure rate %.2f%%", step.elapsedSeconds,
                                 Output.number(step.read), Output.number(Int(step.rowsPerSecond)), step.failureRate * 100))
                }
            }
            print("  chunks:")
            for chunk in report.chunks {
                print("    \(chunk.index)  \(chunk.status.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0))  \(Output.range(chunk.range))  read \(Output.number(chunk.counters.read))  cursor \(Output.key(chunk.cursor?.key))")
            }
            print("  events:")
            for event in report.events {
                print("    \(event.at.formatted(.iso8601))  \(event.kind)  \(event.message)")
            }
        }
    }
}
