extension RunStore {
    /// Stores a `RunStateMachine`'s status change — only if the run is still in one of
    /// `change.from`, so a concurrent pause or cancel is never overwritten — and records its event.
    /// - Returns: whether the status changed.
    @discardableResult
    public func apply(_ change: StatusChange, runID: Int64, message: String? = nil) async throws -> Bool {
        guard try await transition(runID: runID, from: change.from, to: change.to, reason: change.reason) else { return false }
        try await recordEvent(runID: runID, kind: change.event, message: message ?? change.reason ?? "run \(change.to.rawValue)")
        return true
    }
}
