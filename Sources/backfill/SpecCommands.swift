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
            let (spec, job): (JobSpec, ResolvedJob)
            do {
                (spec, job) = try await JobWiring.withPrepared(specPath: self.spec, checkKey: true, creating: .preview(asked: false)) { ($0.spec, $0.job) }
            } catch let missing as TargetCreation.TableToCreate {
                if common.json {
                    print(try Output.json(ValidationResult(valid: true, columns: missing.design.columns.map(\.name), key: missing.design.key, problems: [], createTable: missing.design.sql)))
                } else {
                    print("\(self.spec): valid")
                    print("  " + TargetCreation.preview(missing).replacingOccurrences(of: "\n", with: "\n  "))
                }
                return
            }
            if common.json {
                print(try Output.json(ValidationResult(valid: true, columns: job.columns, key: spec.key, problems: [])))
            } else {
                print("\(self.spec): valid")
                print("  \(spec.source.kind.rawValue) \(spec.source.table ?? spec.source.redactedLocation) → \(spec.target.kind.rawValue) \(spec.target.table ?? spec.target.redactedLocation)")
                print("  key: \(spec.key.joined(separator: ", ")) · mode: \(spec.mode.rawValue) · columns: \(job.columns.joined(separator: ", "))")
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
        /// The `CREATE TABLE` a run will execute, when the target is still to be created.
        var createTable: String? = nil
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
            let (spec, chunks, path): (JobSpec, [ChunkPlan], BatchPathDescription)
            do {
                (spec, chunks, path) = try await JobWiring.withPrepared(specPath: self.spec, checkKey: false, creating: .preview(asked: false)) { prepared in
                    (prepared.spec, try await Planner.chunks(of: prepared.source, for: prepared.spec), BatchPathDescription(prepared))
                }
            } catch let missing as TargetCreation.TableToCreate {
                // The table first, then how the source would be read into it.
                let loaded = try SpecLoader.load(path: self.spec)
                let chunks = try await Self.sourceChunks(loaded.spec)
                if common.json {
                    var preview = TargetCreation.Preview(missing, dryRun: false)
                    preview.chunks = chunks
                    print(try Output.json(preview))
                } else {
                    print(TargetCreation.preview(missing))
                    print("plan for \(loaded.spec.name): \(chunks.count) chunks, \(loaded.spec.workers) workers, batches of \(loaded.spec.batch.size)")
                    for chunk in chunks {
                        print("  chunk \(chunk.index)  \(Output.range(chunk.range))  ~\(Output.number(chunk.estimatedRows)) rows")
                    }
                }
                return
            }
            let rows = chunks.reduce(0) { $0 + $1.estimatedRows }
            if common.json {
                print(try Output.json(Plan(job: spec.name, estimatedRows: rows, workers: spec.workers, chunks: chunks, paths: path.paths)))
                return
            }
            print("plan for \(spec.name): \(chunks.count) chunks, about \(Output.number(rows)) rows, \(spec.workers) workers, batches of \(spec.batch.size)")
            print("  how rows move: \(path.text)")
            for chunk in chunks {
                print("  chunk \(chunk.index)  \(Output.range(chunk.range))  ~\(Output.number(chunk.estimatedRows)) rows")
            }
        }
    }

    /// The chunks the spec's source plans, without a target (one that `run` would create).
    private static func sourceChunks(_ spec: JobSpec) async throws -> [ChunkPlan] {
        try await Connections.using(spec) { connections in
            try await JobWiring.openSource(spec, columns: spec.columns, connections: connections).reader.plan(workers: spec.workers)
        }
    }

    struct Plan: Encodable {
        var job: String
        var estimatedRows: Int
        var workers: Int
        var chunks: [ChunkPlan]
        /// The batch paths the run takes, first to last (`chunk-comparison`, `hash-diff`, `transfer`, `rows`).
        var paths: [String]
    }
}

/// Which batch paths a prepared job's run takes, and why the row path where it is the only one.
struct BatchPathDescription {
    var paths: [String] = []
    var text: String

    init(_ prepared: PreparedJob) {
        var parts: [String] = []
        if prepared.comparer != nil {
            paths.append("chunk-comparison")
            parts.append("chunks already equal on both sides are skipped (count and checksum inside both engines)")
        }
        if prepared.differ != nil {
            paths.append("hash-diff")
            parts.append("per batch, only rows whose hashes differ are read and written")
        }
        if prepared.transfer != nil {
            paths.append("transfer")
            parts.append("batches merge inside SQLite (only differing rows are written)")
        }
        paths.append("rows")
        if parts.isEmpty {
            let spec = prepared.spec
            switch (spec.source.kind, spec.target.kind) {
            case (_, .webhook), (_, .jsonl):
                text = "every event is read; the delivery ledger (or the events file) skips those already delivered"
            case (.csv, _), (.jsonl, _):
                text = "every record of the file is read; the target's write skips rows already equal"
            default:
                let why = prepared.paths.rowPathReason.map { " (\($0))" } ?? ""
                text = "every row is read; the target's write skips rows already equal\(why)"
            }
        } else {
            text = parts.joined(separator: "; ") + "; the rest read and written row by row"
        }
    }
}

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented spec: an example, or one written from a real table or file (--from).",
        discussion: """
            With --from SOURCE (a SQLite file, a postgres:// DSN, a .csv or .jsonl file) the spec takes the \
            source's columns, its primary key as key (or --key), an updated_at/version-like column for \
            newer-wins, and a batch size from the rows' width; --to TARGET names the target (the same table \
            name; create: true when it does not exist yet). A DSN is written without its password: set PGPASSWORD.
            """)

    @Argument(help: "Where to write it.")
    var path = "backfill.yaml"

    @Flag(help: "Overwrite an existing file.")
    var force = false

    @Option(help: "Write the spec from this source: a SQLite file, a postgres:// DSN, or a .csv/.jsonl export (a file, or a directory or glob of parts, plain, .gz or .zst).")
    var from: String?

    @Option(help: "The target: a SQLite file or a postgres:// DSN (default: a new SQLite file named after the table).")
    var to: String?

    @Option(help: "The source table (a SQLite file with one table needs none); for a CSV or JSONL export, the target table to fill.")
    var table: String?

    @Option(help: "The key columns, comma-separated, when the source has no primary key.")
    var key: String?

    func validate() throws {
        if from == nil, to != nil || table != nil || key != nil { throw ValidationError("--to, --table and --key go with --from") }
    }

    func run() async throws {
        if FileManager.default.fileExists(atPath: path), !force {
            ExitStatus.printError("error: \(path) already exists; pass --force to overwrite it")
            throw ExitCode(ExitStatus.invalidInput)
        }
        var text = ExampleSpec.text
        var summary: String?
        if let from {
            try await withExitCodes {
                let keys = key.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                (text, summary) = try await SpecFromSource(from: from, to: to, table: table, key: keys, specPath: path).write()
            }
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            ExitStatus.printError("error: cannot write \(path)")
            throw ExitCode(ExitStatus.invalidInput)
        }
        if let summary {
            print("wrote \(path) (\(summary)); next: backfill validate \(path) && backfill run \(path) --dry-run")
        } else {
            print("wrote \(path); edit it, then: backfill validate \(path) && backfill run \(path) --dry-run")
        }
    }
}
