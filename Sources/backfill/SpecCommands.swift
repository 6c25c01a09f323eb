import ArgumentParser
import BackfillCore
import Foundation

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a spec against its source and target; report every problem with its line.")

    @Argument(help: "The job spec (YAML).")
    var spec: String

    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        do {
            let prepared = try await JobWiring.prepare(specPath: spec, checkKey: true)
            if common.json {
                print(try Output.json(ValidationResult(valid: true, columns: prepared.job.columns, key: prepared.spec.key, problems: [])))
            } else {
                print("\(spec): valid")
                print("  \(prepared.spec.source.kind.rawValue) \(prepared.spec.source.table ?? prepared.spec.source.redactedLocation) → \(prepared.spec.target.kind.rawValue) \(prepared.spec.target.table ?? prepared.spec.target.redactedLocation)")
                print("  key: \(prepared.spec.key.joined(separator: ", ")) · mode: \(prepared.spec.mode.rawValue) · columns: \(prepared.job.columns.joined(separator: ", "))")
            }
        } catch let problems as SpecProblems where common.json {
            print(try Output.json(ValidationResult(valid: false, columns: [], key: [], problems: problems.problems)))
            throw ExitCode(ExitStatus.invalidInput)
        } catch {
            throw ExitStatus.report(error)
        }
    }

    struct ValidationResult: Encodable {
        var valid: Bool
        var columns: [String]
        var key: [String]
        var problems: [SpecProblem]
    }
}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Show how a spec's source would be split into chunks, with a row estimate.")

    @Argument(help: "The job spec (YAML).")
    var spec: String

    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let prepared = try await JobWiring.prepare(specPath: spec, checkKey: false)
            let chunks = try await prepared.source.plan(workers: prepared.spec.workers)
            let rows = chunks.reduce(0) { $0 + $1.estimatedRows }
            if common.json {
                print(try Output.json(Plan(job: prepared.spec.name, estimatedRows: rows, workers: prepared.spec.workers, chunks: chunks)))
                return
            }
            print("plan for \(prepared.spec.name): \(chunks.count) chunks, about \(Output.number(rows)) rows, \(prepared.spec.workers) workers, batches of \(prepared.spec.batch.size)")
            for chunk in chunks {
                print("  chunk \(chunk.index)  \(Output.range(chunk.range))  ~\(Output.number(chunk.estimatedRows)) rows")
            }
        }
    }

    struct Plan: Encodable {
        var job: String
        var estimatedRows: Int
        var workers: Int
        var chunks: [ChunkPlan]
    }
}

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Write a commented example spec.")

    @Argument(help: "Where to write it.")
    var path = "backfill.yaml"

    @Flag(help: "Overwrite an existing file.")
    var force = false

    func run() throws {
        if FileManager.default.fileExists(atPath: path), !force {
            ExitStatus.printError("error: \(path) already exists; pass --force to overwrite it")
            throw ExitCode(ExitStatus.invalidInput)
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(ExampleSpec.text.utf8)) else {
            ExitStatus.printError("error: cannot write \(path)")
            throw ExitCode(ExitStatus.invalidInput)
        }
        print("wrote \(path); edit it, then: backfill validate \(path) && backfill run \(path) --dry-run")
    }
}
