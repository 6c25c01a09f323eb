/// Pause, resume and cancel: the status changes `backfill pause|resume|cancel` and the HTTP API
/// make, with their checks. A running process sees the change before its next batch.
public enum RunControl {
    /// Changes run `id` to `status` (`.paused`, `.running` for resume, or `.cancelled`).
    /// - Returns: the status the run has now: a resumed run no live process executes is `planned`.
    /// - Throws: `BackfillError` `.invalidInput` for an unknown run, `.runConflict` for a finished one.
    public static func change(state: any StateStore, run id: Int64, to status: RunStatus) async throws -> RunStatus {
        guard let run = try await state.run(id: id) else { throw BackfillError(.invalidInput, "no run \(id) in the state store") }
        guard run.status.isResumable else {
            throw BackfillError(.runConflict, "run \(id) is \(run.status.rawValue); it cannot be changed any more")
        }
        let request: RunStateMachine.Request = status == .paused ? .pause : status == .cancelled ? .cancel : .resume
        let live = request == .resume && (run.owner.map(RunStarter.isAlive(owner:)) ?? false)
        var machine = RunStateMachine(status: run.status)
        for case .persist(let change) in machine.handle(.requested(request, ownerAlive: live)) {
            let message = change.reason ?? "resumed by request"
            guard try await state.apply(change, runID: id, message: message) else {
                let now = try await state.run(id: id)?.status.rawValue ?? "gone"
                throw BackfillError(.runConflict, "run \(id) became \(now) meanwhile; it cannot be changed any more")
            }
        }
        return machine.status
    }
}
