import Foundation
import Logging

/// The checks a worker passes before every batch besides the pause flag: the pause file, the
/// window, the throttle probe, the target's standbys and latency and the source's own replication
/// lag (`health:`). While one holds
/// the run back the worker waits, holding no transaction, and the run's status says why (and, for
/// the window, until when).
struct RunGates: Sendable {
    let pauseFile: String?
    let window: WindowSpec?
    let throttle: ThrottleSpec?
    let probe: (@Sendable (String) async throws -> Double)?
    let pollInterval: Duration
    /// The clock the window is judged by and the probe's age is read from (injected by tests).
    let clock: any RunClock
    /// The latest probe value, reused for `throttle.every` so the source is asked at most that often.
    let lastProbe: ProbeCache
    /// `health.replica-lag`, when the spec sets it.
    let replicaLag: ReplicaLagGate?
    /// `health.target-latency`, when the spec sets it.
    let targetLatency: TargetLatencyGate?
    /// `health.replica-lag` on a source that may be a standby.
    let sourceLag: SourceLagGate?

    init(
        pauseFile: String?, window: WindowSpec?, throttle: ThrottleSpec?, probe: (@Sendable (String) async throws -> Double)?,
        pollInterval: Duration, clock: any RunClock, replicaLag: ReplicaLagGate? = nil, targetLatency: TargetLatencyGate? = nil,
        sourceLag: SourceLagGate? = nil
    ) {
        self.sourceLag = sourceLag
        self.replicaLag = replicaLag
        self.targetLatency = targetLatency
        self.pauseFile = pauseFile
        self.window = window
        self.throttle = throttle
        self.probe = probe
        self.pollInterval = pollInterval
        self.clock = clock
        self.lastProbe = ProbeCache(clock: clock)
    }

    /// Why the run may not go on right now, or `nil`.
    func reasonToWait() async throws -> WaitReason? {
        if let pauseFile, FileManager.default.fileExists(atPath: pauseFile) {
            return WaitReason(.pauseFile, "paused by the pause file \(pauseFile); remove it to continue")
        }
        if let window {
            let date = clock.date
            if !window.contains(date) {
                let opening = window.nextOpening(after: date).map { "; it opens at \($0.formatted(.iso8601))" } ?? ""
                return WaitReason(.window, "outside the window\(opening)")
            }
        }
        if let throttle, let probe {
            let value = try await lastProbe.value(maxAge: .milliseconds(Int64(throttle.every * 1000))) {
                try await probe(throttle.query)
            }
            if value > throttle.max {
                return WaitReason(.throttled, "throttled: the throttle query returned \(value), above \(throttle.max)", signal: .throttle)
            }
        }
        if let replicaLag, let reason = await replicaLag.reasonToWait() { return reason }
        if let sourceLag, let reason = await sourceLag.reasonToWait() { return reason }
        if let targetLatency, let reason = await targetLatency.reasonToWait() { return reason }
        return nil
    }

    /// How long to wait before asking again, given why the run waits.
    func retryDelay(for reason: WaitReason) -> Duration {
        if reason.kind == .throttled, let throttle {
            return .milliseconds(Int64(throttle.every * 1000))
        }
        return pollInterval
    }
}

/// The last throttle probe value and when it was read.
actor ProbeCache {
    private var last: (value: Double, at: ContinuousClock.Instant)?
    private let clock: any RunClock

    init(clock: any RunClock) { self.clock = clock }

    /// The cached value if younger than `maxAge`, otherwise a fresh one from `read`.
    func value(maxAge: Duration, read: @Sendable () async throws -> Double) async throws -> Double {
        if let last, last.at.duration(to: clock.now) < maxAge { return last.value }
        let value = try await read()
        last = (value, clock.now)
        return value
    }
}
