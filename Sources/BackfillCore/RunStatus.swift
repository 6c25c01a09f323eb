/// The lifecycle state of a run (DESIGN: planned, running, paused, cancelled, failed, completed).
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case planned, running, paused, cancelled, failed, completed

    /// A run in this state can still be continued by `backfill run SPEC`.
    public var isResumable: Bool {
        switch self {
        case .planned, .running, .paused: return true
        case .cancelled, .failed, .completed: return false
        }
    }
}

/// The state of one chunk of a run.
public enum ChunkStatus: String, Sendable, Codable {
    case pending, running, done
}
