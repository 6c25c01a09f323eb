import ArgumentParser
import BackfillCore
import BackfillSQLite
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove the target equals the source: checksums per chunk, bisection, every difference with its key.",
        discussion: "Exit 0 when equal, 3 when anything differs (rows newer in the target under newer-wins are reported, not counted).")

    @Argument(help: "The job spec (YAML).")
    var spec: String

    @Option(help: "At most this many differences listed (all are counted).")
    var limit = 100

    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let prepared = try await JobWiring.prepare(specPath: spec, checkKey: false)
            let spec = prepared.spec
            guard spec.source.kind == .sqlite, spec.target.kind == .sqlite, let source = prepared.source as? SQLiteSource,
                let targetTable = spec.target.table
            else {
                throw BackfillError(.invalidInput, "verify compares SQLite tables in this version; \(spec.source.kind.rawValue) → \(spec.target.kind.rawValue) is not supported yet")
            }
            let target = try SQLiteSource(
                path: spec.resolve(path: spec.target.location), table: targetTable, key: spec.key, range: spec.range
            ).selecting(prepared.job.columns)
            var verifier = Verifier(job: prepared.job, source: source, target: target)
            verifier.reportLimit = limit
            let report = try await verifier.verify(chunks: try await source.plan(workers: spec.workers))
            print(common.json ? try Output.json(report) : VerifyText.render(report))
            if !report.equal { throw ExitCode(ExitStatus.differences) }
        }
    }
}

enum VerifyText {
    static func render(_ report: VerifyReport) -> String {
        var lines = [
            "verify \(report.job): " + (report.equal ? "EQUAL" : "DIFFERENT") + " in \(Output.seconds(report.seconds))",
            "  source \(Output.number(report.sourceRows)) rows · target \(Output.number(report.targetRows)) rows",
            "  missing in target \(Output.number(report.missing)) · extra in target \(Output.number(report.extra)) · different \(Output.number(report.different)) · newer in target \(Output.number(report.newerInTarget))",
            "  ranges compared by checksum \(Output.number(report.rangesCompared)) · listed row by row \(Output.number(report.rangesListed))",
        ]
        for difference in report.differences {
            let columns = difference.columns.isEmpty ? "" : " (" + difference.columns.joined(separator: ", ") + ")"
            lines.append("  \(difference.kind.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) key \(Output.key(difference.key))\(columns)")
        }
        return lines.joined(separator: "\n")
    }
}
