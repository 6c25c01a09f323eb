import ArgumentParser
import Foundation

/// `backfill`: replay rows from a source of truth into a target, safely, and prove the result.
@main
struct Backfill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Replay rows from a source of truth into a damaged target in checkpointed, idempotent batches.",
        discussion: """
            Exit codes: 0 success · 1 run failed · 2 invalid input · 3 verify found differences · \
            4 run paused or cancelled before finishing.
            """,
        version: Version.text,
        subcommands: [
            InitCommand.self, ValidateCommand.self, PlanCommand.self, RunCommand.self, StatusCommand.self,
            PauseCommand.self, ResumeCommand.self, CancelCommand.self, SetCommand.self, QuarantineCommand.self, ReportCommand.self,
            VerifyCommand.self, UndoCommand.self, JournalCommand.self, WorkerCommand.self, ServeCommand.self, DemoCommand.self,
        ]
    )

    /// Parses and runs the command; usage errors exit 2 (DESIGN's "invalid input"), not 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
