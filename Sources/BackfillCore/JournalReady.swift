import Synchronization

/// Whether this process has made sure a target's journal exists (and pruned it), shared by the
/// copies of one sink: the journal is prepared before the first journaled write, once.
public final class JournalReady: Sendable {
    private let done = Mutex(false)

    public init() {}

    /// Runs `prepare` unless an earlier call's succeeded.
    public func ensure(_ prepare: () async throws -> Void) async throws {
        guard !done.withLock({ $0 }) else { return }
        try await prepare()
        done.withLock { $0 = true }
    }
}
