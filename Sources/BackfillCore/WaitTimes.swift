/// Seconds a run waited, by why: the pause flag, the pause file, the window, the throttle probe,
/// the live system's health (`health:`).
public struct WaitTimes: Sendable, Codable, Hashable {
    public var paused: Double = 0
    public var pauseFile: Double = 0
    public var window: Double = 0
    public var throttled: Double = 0
    public var health: Double = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case paused, pauseFile, window, throttled, health
    }

    /// Stored before `health` existed, a record has none: 0.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        paused = try container.decodeIfPresent(Double.self, forKey: .paused) ?? 0
        pauseFile = try container.decodeIfPresent(Double.self, forKey: .pauseFile) ?? 0
        window = try container.decodeIfPresent(Double.self, forKey: .window) ?? 0
        throttled = try container.decodeIfPresent(Double.self, forKey: .throttled) ?? 0
        health = try container.decodeIfPresent(Double.self, forKey: .health) ?? 0
    }

    public var total: Double { paused + pauseFile + window + throttled + health }

    public static func + (lhs: WaitTimes, rhs: WaitTimes) -> WaitTimes {
        var sum = WaitTimes()
        sum.paused = lhs.paused + rhs.paused
        sum.pauseFile = lhs.pauseFile + rhs.pauseFile
        sum.window = lhs.window + rhs.window
        sum.throttled = lhs.throttled + rhs.throttled
        sum.health = lhs.health + rhs.health
        return sum
    }

    /// Why a run waits, to attribute its waiting time.
    public enum Reason: Sendable {
        case paused, pauseFile, window, throttled, health
    }

    mutating func add(_ seconds: Double, for reason: Reason) {
        switch reason {
        case .paused: paused += seconds
        case .pauseFile: pauseFile += seconds
        case .window: window += seconds
        case .throttled: throttled += seconds
        case .health: health += seconds
        }
    }
}
