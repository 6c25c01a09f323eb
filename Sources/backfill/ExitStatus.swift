import ArgumentParser
import BackfillCore
import Foundation

/// Maps errors and run outcomes onto DESIGN's exit codes, printing what the user must know.
enum ExitStatus {
    static let failed: Int32 = 1
    static let invalidInput: Int32 = 2
    static let differences: Int32 = 3
    static let stopped: Int32 = 4
    static let quarantineRemains: Int32 = 5

    /// The exit code of a finished run: a completed run that left rows in quarantine exits 5
    /// unless its spec says `limits.accept-quarantined: true` (a dry run writes nothing, so 0).
    static func code(for summary: RunSummary, spec: JobSpec) -> Int32 {
        if summary.status == .completed, !summary.dryRun, summary.counters.quarantined > 0, !spec.limits.acceptQuarantined {
            return quarantineRemains
        }
        return code(for: summary.status)
    }

    static func code(for status: RunStatus) -> Int32 {
        switch status {
        case .completed, .planned: return 0
        case .failed: return failed
        case .paused, .cancelled, .running: return stopped
        }
    }

    /// Prints `error` to standard error and returns the exit code for it.
    static func report(_ error: any Error) -> ExitCode {
        switch error {
        case let problems as SpecProblems:
            for problem in problems.problems { printError("error: \(problem)") }
            printError("\(problems.problems.count) problem\(problems.problems.count == 1 ? "" : "s") found")
            return ExitCode(invalidInput)
        case let error as BackfillError:
            printError("error: \(Redaction.redact(error.description))")
            if error.code == .invalidSpec || error.code == .invalidInput || error.code == .runConflict {
                return ExitCode(invalidInput)
            }
            return ExitCode(failed)
        case let exit as ExitCode:
            return exit
        default:
            printError("error: \(Redaction.redact(String(describing: error)))")
            return ExitCode(failed)
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

/// Runs a command body, turning every error into its exit code.
func withExitCodes(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        throw ExitStatus.report(error)
    }
}
