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
        var target = status
        var reason: String? = nil
        switch status {
        case .paused:
            reason = "paused by request"
        case .cancelled:
            reason = "cancelled by request"
        default:
            // Resume: a live process picks the run up again; otherwise `backfill run SPEC` continues it.
            let live = run.owner.map(RunStarter.isAlive(owner:)) ?? false
            target = live ? .running : .planned
        }
        guard try await state.transition(runID: id, from: [.planned, .running, .paused], to: target, reason: reason) else {
            let now = try await state.run(id: id)?.status.rawValue ?? "gone"
            throw BackfillError(.runConflict, "run \(id) became \(now) meanwhile; it cannot be changed any more")
        }
        try await state.recordEvent(runID: id, kind: status == .running ? "resumed" : target.rawValue, message: reason ?? "resumed by request")
        return target
    }
}
