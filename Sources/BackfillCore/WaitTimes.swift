/// Seconds a run waited, by why: the pause flag, the pause file, the window, the throttle probe.
public struct WaitTimes: Sendable, Codable, Hashable {
    public var paused: Double = 0
    public var pauseFile: Double = 0
    public var window: Double = 0
    public var throttled: Double = 0

    public init() {}

    public var total: Double { paused + pauseFile + window + throttled }

    public static func + (lhs: WaitTimes, rhs: WaitTimes) -> WaitTimes {
        var sum = WaitTimes()
        sum.paused = lhs.paused + rhs.paused
        sum.pauseFile = lhs.pauseFile + rhs.pauseFile
        sum.window = lhs.window + rhs.window
        sum.throttled = lhs.throttled + rhs.throttled
        return sum
    }

    /// Why a run waits, to attribute its waiting time.
    public enum Reason: Sendable {
        case paused, pauseFile, window, throttled
    }

    mutating func add(_ seconds: Double, for reason: Reason) {
        switch reason {
        case .paused: paused += seconds
        case .pauseFile: pauseFile += seconds
        case .window: window += seconds
        case .throttled: throttled += seconds
        }
    }
}
