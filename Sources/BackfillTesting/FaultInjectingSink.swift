import BackfillCore
import Foundation
import Synchronization

/// Wraps a real sink and makes its first `failures` writes fail with a transient error (a target
/// that is down for a while), recording when each call came.
public final class FaultInjectingSink: Sink, Sendable {
    private let wrapped: any Sink
    private let state: Mutex<(left: Int, calls: [ContinuousClock.Instant])>

    public init(wrapping sink: any Sink, failures: Int) {
        self.wrapped = sink
        self.state = Mutex((failures, []))
    }

    /// When each write call came, failed ones included.
    public var calls: [ContinuousClock.Instant] { state.withLock { $0.calls } }

    public func describe() async throws -> TableDescription { try await wrapped.describe() }

    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        let fail = state.withLock { state -> Bool in
            state.calls.append(.now)
            guard state.left > 0 else { return false }
            state.left -= 1
            return true
        }
        if fail { throw BackfillError(.unavailable, kind: .transient, "injected outage", location: "fault injection") }
        return try await wrapped.write(rows, keyOrdered: keyOrdered, dryRun: dryRun)
    }
}
