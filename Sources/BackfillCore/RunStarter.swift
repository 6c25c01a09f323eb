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
        spec: JobSpec, specText: String? = nil, plan: () async throws -> [ChunkPlan]
    ) async throws -> (run: RunRecord, resumed: Bool) {
        if let existing = try await state.latestResumableRun(job: spec.name) {
            try checkResumable(existing, spec: spec)
            guard try await state.takeOver(runID: existing.id, owner: owner, replacing: existing.owner) else {
                let holder = try await state.run(id: existing.id)?.owner
                throw BackfillError(
                    .runConflict,
                    "run \(existing.id) was just taken over by process \(holder ?? "another process"); pause or cancel it there first")
            }
            try await state.recordEvent(runID: existing.id, kind: "resumed", message: "resumed by \(owner)")
            guard let run = try await state.run(id: existing.id) else {
                throw BackfillError(.stateStore, "run \(existing.id) disappeared from the state store")
            }
            return (run, true)
        }
        let chunks = try await plan()
        var new = NewRun(job: spec.name, specFingerprint: spec.fingerprint, chunks: chunks, owner: owner)
        new.spec = specText.map { SpecLoader.storable($0, baseDirectory: spec.baseDirectory) }
        let (run, created) = try await state.createRun(new, unlessFound: .resumable)
        if !created {
            // A worker started the run meanwhile: coordinate it.
            return try await startOrResume(spec: spec, specText: specText, plan: plan)
        }
        try await state.recordEvent(runID: run.id, kind: "started", message: "planned \(chunks.count) chunks, about \(run.estimatedRows) rows")
        return (run, false)
    }

    /// The run a `backfill worker` joins: run `runID`, or else the job's newest run — created
    /// (once, however many workers start together) when the job has none. A finished run is
    /// returned as it is (the worker then has nothing to do); a new run of a finished job is
    /// started with `backfill run`. Unlike `startOrResume`, it takes nothing over: chunks other
    /// processes hold stay theirs.
    /// - Throws: `.runConflict` when the run belongs to a different spec.
    public func join(
        spec: JobSpec, runID: Int64?, specText: String?, plan: () async throws -> [ChunkPlan]
    ) async throws -> RunRecord {
        let run: RunRecord
        if let runID {
            guard let found = try await state.run(id: runID) else {
                throw BackfillError(.invalidInput, "no run \(runID) in the state store")
            }
            run = found
        } else if let existing = try await state.newestRun(job: spec.name) {
            run = existing
        } else {
            // No owner: a worker joins a run; it does not coordinate it (`backfill run` may).
            var new = NewRun(job: spec.name, specFingerprint: spec.fingerprint, chunks: try await plan(), owner: nil)
            new.spec = specText.map { SpecLoader.storable($0, baseDirectory: spec.baseDirectory) }
            let (created, isNew) = try await state.createRun(new, unlessFound: .newest)
            if isNew {
                try await state.recordEvent(
                    runID: created.id, kind: "started", message: "planned \(new.chunks.count) chunks, about \(created.estimatedRows) rows (by worker \(owner))")
            }
            run = created
        }
        if run.specFingerprint != spec.fingerprint {
            throw BackfillError(
                .runConflict, "run \(run.id) of job '\(run.job)' was started from a different spec; give the worker the spec the run was started with")
        }
        try await state.recordEvent(runID: run.id, kind: "worker-joined", message: "worker \(owner) joined")
        return run
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
        // The host may hold colons itself (an IPv6 address): the pid follows the last one.
        guard let colon = owner.lastIndex(of: ":"), let pid = Int32(owner[owner.index(after: colon)...]) else { return false }
        guard String(owner[..<colon]) == ProcessInfo.processInfo.hostName else { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
