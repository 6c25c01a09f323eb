import Foundation

/// Finds the run `backfill run SPEC` continues, or plans and creates a new one.
public struct RunStarter: Sendable {
    let state: any StateStore
    let owner: String

    public init(state: any StateStore, owner: String = RunStarter.currentProcess) {
        self.state = state
        self.owner = owner
    }

    /// `host:pid` of this process.
    public static var currentProcess: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// The newest resumable run of the job, taken over by this process, or a new run.
    ///
    /// - Parameter plan: called only when a new run is needed.
    /// - Returns: the run and whether it was resumed.
    /// - Throws: `BackfillError` `.runConflict` when the resumable run was started from a different
    ///   spec, is paused, or is being executed by another live process.
    public func startOrResume(
        spec: JobSpec, plan: () async throws -> [ChunkPlan]
    ) async throws -> (run: RunRecord, resumed: Bool) {
        if let existing = try await state.latestResumableRun(job: spec.name) {
            try checkResumable(existing, spec: spec)
            try await state.takeOver(runID: existing.id, owner: owner)
            try await state.recordEvent(runID: existing.id, kind: "resumed", message: "resumed by \(owner)")
            guard let run = try await state.run(id: existing.id) else {
                throw BackfillError(.stateStore, "run \(existing.id) disappeared from the state store")
            }
            return (run, true)
        }
        let chunks = try await plan()
        let run = try await state.createRun(NewRun(job: spec.name, specFingerprint: spec.fingerprint, chunks: chunks, owner: owner))
        try await state.recordEvent(runID: run.id, kind: "started", message: "planned \(chunks.count) chunks, about \(run.estimatedRows) rows")
        return (run, false)
    }

    private func checkResumable(_ run: RunRecord, spec: JobSpec) throws {
        if run.specFingerprint != spec.fingerprint {
            throw BackfillError(
                .runConflict,
                "run \(run.id) of job '\(spec.name)' was started from a different spec (source, target, key, columns, mode or range changed); finish it with the original spec, or `backfill cancel \(run.id)` to start anew")
        }
        if run.status == .paused {
            throw BackfillError(
                .runConflict, "run \(run.id) is paused (\(run.reason ?? "by request")); `backfill resume \(run.id)` to continue it")
        }
        if run.status == .running, let other = run.owner, other != owner, Self.isAlive(owner: other) {
            throw BackfillError(.runConflict, "run \(run.id) is being executed by process \(other); pause or cancel it first")
        }
    }

    /// Whether `host:pid` names a live process on this host (a process elsewhere counts as alive).
    public static func isAlive(owner: String) -> Bool {
        let parts = owner.split(separator: ":")
        guard parts.count == 2, let pid = Int32(parts[1]) else { return false }
        guard String(parts[0]) == ProcessInfo.processInfo.hostName else { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
