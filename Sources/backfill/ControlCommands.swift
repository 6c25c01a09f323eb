import ArgumentParser
import BackfillCore
import Foundation

/// Changes a run's status in the state store; the running process sees it before its next batch.
enum RunControlCommand {
    static func change(run id: Int64, statePath: String, to status: RunStatus, json: Bool) async throws {
        let (state, _) = try await JobWiring.openRun(id, statePath: statePath)
        let target = try await RunControl.change(state: state, run: id, to: status)
        if json {
            print(try Output.json(["run": "\(id)", "status": target.rawValue]))
        } else if target == .planned {
            print("run \(id) resumed; no process is executing it: `backfill run SPEC` continues it")
        } else {
            print("run \(id) \(status == .running ? "resumed" : target.rawValue)")
        }
    }
}

struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Pause a run before its next batch (it holds no transaction while paused).")
    @Argument(help: "The run id.") var run: Int64
    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes { try await RunControlCommand.change(run: run, statePath: stateOptions.state, to: .paused, json: common.json) }
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused run.")
    @Argument(help: "The run id.") var run: Int64
    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes { try await RunControlCommand.change(run: run, statePath: stateOptions.state, to: .running, json: common.json) }
    }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a run before its next batch; it cannot be resumed.")
    @Argument(help: "The run id.") var run: Int64
    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes { try await RunControlCommand.change(run: run, statePath: stateOptions.state, to: .cancelled, json: common.json) }
    }
}

struct SetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Change a running run's rates, budgets, batch size or workers; workers apply it before their next batch.")
    @Argument(help: "The run id.") var run: Int64
    @Argument(
        help: "KNOB=VALUE: rows-per-second=N (0 lifts the limit), batch-size=N, workers=N, bytes-per-second=N, wal-bytes-per-second=N (bytes).")
    var assignments: [String]
    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            guard !assignments.isEmpty else {
                throw BackfillError(.invalidInput, "name at least one KNOB=VALUE: \(RunKnobs.names.joined(separator: ", "))")
            }
            var checked = RunKnobs()
            for assignment in assignments { try checked.set(assignment) }
            let (state, record) = try await JobWiring.openRun(run, statePath: stateOptions.state)
            guard record.status.isResumable else {
                throw BackfillError(.runConflict, "run \(run) is \(record.status.rawValue); it cannot be changed any more")
            }
            var knobs = record.knobs
            for assignment in assignments { try knobs.set(assignment) }
            try await state.setKnobs(runID: run, knobs)
            try await state.recordEvent(runID: run, kind: "set", message: "set " + assignments.joined(separator: " "))
            if common.json {
                print(try Output.json(knobs))
            } else {
                print("run \(run): \(assignments.joined(separator: " ")) (applied before each worker's next batch)")
            }
        }
    }
}
