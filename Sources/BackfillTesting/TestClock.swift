import BackfillCore
import Foundation
import Synchronization

/// A `RunClock` that only moves when the test advances it: code that sleeps on it waits until
/// `advance(by:)` passes its deadline, and a test waits for the sleepers it expects
/// (`waitForSleepers(_:)`) — the event — instead of sleeping itself.
public final class TestClock: RunClock, Sendable {
    private struct Sleeper {
        let id: UInt64
        let deadline: Duration
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var elapsed: Duration = .zero
        var sleepers: [Sleeper] = []
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        /// Every duration slept for, in order (zero-length sleeps are not recorded).
        var requested: [Duration] = []
    }

    private let state = Mutex(State())
    private let origin = ContinuousClock.now
    private let originDate: Date

    /// - Parameter date: the wall-clock time the clock starts at.
    public init(date: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.originDate = date
    }

    public var now: ContinuousClock.Instant { origin + state.withLock { $0.elapsed } }

    public var date: Date { originDate.addingTimeInterval(state.withLock { $0.elapsed }.inSeconds) }

    /// How far the clock was advanced.
    public var elapsed: Duration { state.withLock { $0.elapsed } }

    /// Tasks sleeping on the clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// Every duration code asked to sleep, in order.
    public var requestedSleeps: [Duration] { state.withLock { $0.requested } }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        guard duration > .zero else { return }
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let refused = state.withLock { state -> Bool in
                    if state.cancelled.remove(id) != nil { return true }
                    state.requested.append(duration)
                    state.sleepers.append(Sleeper(id: id, deadline: state.elapsed + duration, continuation: continuation))
                    return false
                }
                if refused { continuation.resume(throwing: CancellationError()) } else { notifyWatchers() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward, waking every sleeper whose deadline it passes.
    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.elapsed += duration
            let elapsed = state.elapsed
            let due = state.sleepers.filter { $0.deadline <= elapsed }
            state.sleepers.removeAll { $0.deadline <= elapsed }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves the clock to the earliest sleeper's deadline, waking it (and any due with it).
    /// - Returns: how far it moved; `nil` when nobody sleeps.
    @discardableResult
    public func advanceToNextDeadline() -> Duration? {
        guard let next = state.withLock({ state in state.sleepers.map(\.deadline).min().map { $0 - state.elapsed } }) else {
            return nil
        }
        advance(by: max(next, .zero))
        return next
    }

    /// Returns once at least `count` tasks sleep on the clock.
    public func waitForSleepers(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                guard state.sleepers.count < count else { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private func notifyWatchers() {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let count = state.sleepers.count
            let ready = state.watchers.filter { $0.count <= count }.map(\.continuation)
            state.watchers.removeAll { $0.count <= count }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }
}

/// The system's monotonic clock with a fixed wall-clock time: for window tests.
public struct FixedDateClock: RunClock {
    private let system = SystemClock()
    private let fixed: @Sendable () -> Date

    public init(date: @escaping @Sendable () -> Date) { self.fixed = date }

    public var now: ContinuousClock.Instant { system.now }
    public var date: Date { fixed() }
    public func sleep(for duration: Duration) async throws { try await system.sleep(for: duration) }
}
