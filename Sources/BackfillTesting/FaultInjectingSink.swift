import BackfillCore
import Foundation
import Synchronization

/// Wraps a real sink and makes its first `failures` writes fail with a transient error (a target
/// that is down for a while), or every write take `delay` longer (a slow target), recording when
/// each call came and how many rows it carried.
public final class FaultInjectingSink: Sink, Sendable {
    private let wrapped: any Sink
    private let delay: Duration
    private let state: Mutex<(left: Int, calls: [ContinuousClock.Instant], sizes: [Int])>

    public init(wrapping sink: any Sink, failures: Int = 0, delay: Duration = .zero) {
        self.wrapped = sink
        self.delay = delay
        self.state = Mutex((failures, [], []))
    }

    /// Rows per write call.
    public var batchSizes: [Int] { state.withLock { $0.sizes } }

    /// When each write call came, failed ones included.
    public var calls: [ContinuousClock.Instant] { state.withLock { $0.calls } }

    public func describe() async throws -> TableDescription { try await wrapped.describe() }

    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        try await write(rows, keyOrdered: keyOrdered, dryRun: dryRun, to: wrapped)
    }

    /// The same faults, in front of the wrapped sink's copy for `run` (a journaling target tags its entries with it).
    public func forRun(_ run: RunRecord) -> any Sink { ForRun(faults: self, wrapped: wrapped.forRun(run)) }

    private struct ForRun: Sink {
        let faults: FaultInjectingSink
        let wrapped: any Sink
        func describe() async throws -> TableDescription { try await wrapped.describe() }
        func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
            try await faults.write(rows, keyOrdered: keyOrdered, dryRun: dryRun, to: wrapped)
        }
    }

    private func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool, to wrapped: any Sink) async throws -> WriteOutcome {
        let fail = state.withLock { state -> Bool in
            state.calls.append(.now)
            state.sizes.append(rows.count)
            guard state.left > 0 else { return false }
            state.left -= 1
            return true
        }
        if fail { throw BackfillError(.unavailable, kind: .transient, "injected outage", location: "fault injection") }
        if delay > .zero { try await Task.sleep(for: delay) }
        return try await wrapped.write(rows, keyOrdered: keyOrdered, dryRun: dryRun)
    }
}
