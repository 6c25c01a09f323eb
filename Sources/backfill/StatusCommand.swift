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

    static func render(_ run: RunRecord) -> String {
        let percent = run.estimatedRows > 0 ? min(100, Double(run.counters.read) * 100 / Double(run.estimatedRows)) : 100
        let rate = run.activeSeconds > 0 ? Int(Double(run.counters.read) / run.activeSeconds) : 0
        var lines = [
            "run \(run.id)  \(run.job)  \(run.status.rawValue)" + (run.reason.map { " — \($0)" } ?? ""),
            String(format: "  progress    %.0f%% ", percent)
                + "(\(Output.number(run.counters.read)) of ~\(Output.number(run.estimatedRows)) rows; chunks \(run.chunksDone)/\(run.chunksTotal))",
            "  throughput  \(Output.number(rate)) rows/s over \(Output.seconds(run.activeSeconds)) of work",
            "  time        \(Output.seconds(run.activeSeconds)) working · waiting \(Output.seconds(run.waits.total)): "
                + "paused \(Output.seconds(run.waits.paused)), window \(Output.seconds(run.waits.window)), "
                + "throttled \(Output.seconds(run.waits.throttled)), pause file \(Output.seconds(run.waits.pauseFile))"
                + eta(run, rate: rate),
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
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "A run's full report: counters, chunks, events, quarantine.")

    @Argument(help: "The run id.")
    var run: Int64

    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var common: CommonOptions

    struct Report: Encodable {
        var run: RunRecord
        var balanced: Bool
        var rowsPerSecond: Double
        var failureRate: Double
        var errorsByType: [String: Int]
        var chunks: [ChunkRecord]
        var events: [RunEvent]
        var quarantineSample: [QuarantineRecord]
    }

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let (state, record) = try await JobWiring.openRun(run, statePath: stateOptions.state)
            let report = Report(
                run: record, balanced: record.counters.isBalanced,
                rowsPerSecond: record.activeSeconds > 0 ? Double(record.counters.read) / record.activeSeconds : 0,
                failureRate: record.counters.read > 0 ? Double(record.counters.quarantined) / Double(record.counters.read) : 0,
                errorsByType: try await state.quarantineCounts(runID: run),
                chunks: try await state.chunks(runID: run), events: try await state.events(runID: run),
                quarantineSample: try await state.quarantine(runID: run, limit: 20))
            if common.json {
                print(try Output.json(report))
                return
            }
            print(RunText.render(record))
            print(String(format: "  failure rate %.2f%% · batches %@ · retries %@", report.failureRate * 100,
                         Output.number(record.counters.batches), Output.number(record.counters.retries)))
            if !report.errorsByType.isEmpty {
                print("  errors by type: " + report.errorsByType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: " · "))
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
