import Foundation
import Logging

/// The checks a worker passes before every batch besides the pause flag: the pause file, the
/// window and the throttle probe. While one holds the run back the worker waits, holding no
/// transaction, and the run's status says why (and, for the window, until when).
struct RunGates: Sendable {
    let pauseFile: String?
    let window: WindowSpec?
    let throttle: ThrottleSpec?
    let probe: (@Sendable (String) async throws -> Double)?
    let pollInterval: Duration
    /// The clock the window is judged by (injected by tests).
    let now: @Sendable () -> Date
    /// The latest probe value, reused for `throttle.every` so the source is asked at most that often.
    let lastProbe = ProbeCache()

    /// Why the run may not go on right now, or `nil`.
    func reasonToWait() async throws -> (String, WaitTimes.Reason)? {
        if let pauseFile, FileManager.default.fileExists(atPath: pauseFile) {
            return ("paused by the pause file \(pauseFile); remove it to continue", .pauseFile)
        }
        if let window {
            let date = now()
            if !window.contains(date) {
                let opening = window.nextOpening(after: date).map { "; it opens at \($0.formatted(.iso8601))" } ?? ""
                return ("outside the window\(opening)", .window)
            }
        }
        if let throttle, let probe {
            let value = try await lastProbe.value(maxAge: .milliseconds(Int64(throttle.every * 1000))) {
                try await probe(throttle.query)
            }
            if value > throttle.max {
                return ("throttled: the throttle query returned \(value), above \(throttle.max)", .throttled)
            }
        }
        return nil
    }

    /// How long to wait before asking again, given why the run waits.
    func retryDelay(for reason: String) -> Duration {
        if reason.hasPrefix("throttled"), let throttle {
            return .milliseconds(Int64(throttle.every * 1000))
        }
        return pollInterval
    }
}

/// The last throttle probe value and when it was read.
actor ProbeCache {
    private var last: (value: Double, at: ContinuousClock.Instant)?

    /// The cached value if younger than `maxAge`, otherwise a fresh one from `read`.
    func value(maxAge: Duration, read: @Sendable () async throws -> Double) async throws -> Double {
        if let last, last.at.duration(to: .now) < maxAge { return last.value }
        let value = try await read()
        last = (value, .now)
        return value
    }
}
