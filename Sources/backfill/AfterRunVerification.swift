import BackfillCore
import Foundation

/// The proof a run ends with under `run --verify` (or `verify.after-run: true`): the job's range
/// verified; rows that differ again (the source changed during the run, or live writes the guard
/// let through) repaired once more through the runner and verified again; the result recorded on
/// the run. An export source is verified without a repair (an export cannot be read by key).
struct AfterRunVerification {
    let prepared: PreparedJob
    let state: any StateStore

    /// Refuses, before anything runs, a job whose target cannot be verified (events, in place).
    /// - Throws: `BackfillError` `.invalidInput` saying why.
    static func check(_ prepared: PreparedJob) throws {
        let spec = prepared.spec
        try TableVerification.refuseUncomparable(spec, asked: "--verify")
        if prepared.opened.table == nil { try ExportVerifier.refuseUnsupported(spec, repair: false) }
    }

    func run() async throws -> (report: VerifyReport, repair: RepairOutcome?) {
        let spec = prepared.spec
        let report: VerifyReport
        var repair: RepairOutcome?
        if let source = prepared.opened.table, let target = try await prepared.target.table(spec, columns: prepared.job.columns) {
            var verification = try TableVerification(job: prepared.job, source: source, target: target)
            verification.comparer = prepared.comparer
            let outcome = try await verification.run(
                repair: VerifyRepair(
                    state: state, sink: prepared.sink, deleting: nil, logger: LogBootstrap.logger(), specText: prepared.loaded.text))
            (report, repair) = (outcome.report, outcome.repair)
        } else {
            let compared = TableVerification.comparedJob(prepared.job)
            guard let target = try await prepared.target.table(spec, columns: compared.columns) else {
                throw BackfillError(.invalidInput, "--verify needs a SQLite or PostgreSQL target table")
            }
            let source = try await JobWiring.openSource(spec, columns: compared.columns, connections: prepared.connections)
            var verifier = ExportVerifier(job: compared, source: source.reader, target: target)
            verifier.canonical = try await target.canonicalKindsAcrossEngines()
            var exported = try await verifier.verify()
            exported.conclude()
            report = exported
        }
        try await state.recordVerification(report, repair: repair, job: spec.name)
        return (report, repair)
    }
}
