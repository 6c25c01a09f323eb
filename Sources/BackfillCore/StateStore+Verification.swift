extension StateStore {
    /// Records a verification on the newest run of `job`, when the job has one (verify needs no run),
    /// with the repair that came before it, so that the run's report holds the backfill, the
    /// verification and the repair.
    public func recordVerification(_ report: VerifyReport, repair: RepairOutcome? = nil, job: String) async throws {
        guard let run = try await newestRun(job: job) else { return }
        try await recordVerification(runID: run.id, VerificationSummary(report, repair: repair))
        if let repair {
            let before = repair.before
            try await recordEvent(
                runID: run.id, kind: "repaired",
                message: "verify found \(before.missing) missing, \(before.extra) extra, \(before.different) different; "
                    + "repair run \(repair.summary.runID) \(repair.summary.status.rawValue): "
                    + "\(repair.summary.counters.inserted) inserted, \(repair.summary.counters.updated) updated, "
                    + "\(repair.summary.counters.quarantined) quarantined" + (repair.deleted > 0 ? ", \(repair.deleted) deleted" : ""))
        }
        try await recordEvent(
            runID: run.id, kind: "verified",
            message: report.equal ? "verify: equal" : "verify: \(report.missing) missing, \(report.extra) extra, \(report.different) different")
    }
}
