extension StateStore {
    /// Records a verification on the newest run of `job`, when the job has one (verify needs no run).
    public func recordVerification(_ report: VerifyReport, job: String) async throws {
        guard let run = try await newestRun(job: job) else { return }
        try await recordVerification(runID: run.id, VerificationSummary(report))
        try await recordEvent(
            runID: run.id, kind: "verified",
            message: report.equal ? "verify: equal" : "verify: \(report.missing) missing, \(report.extra) extra, \(report.different) different")
    }
}
