import Foundation

/// Seconds a run waited, by why: the pause flag, the pause file, the window, the throttle probe,
/// the live system's health (`health:`) — and, apart from those, the seconds each budget or health
/// signal held its workers back and which one binds now.
public struct WaitTimes: Sendable, Codable, Hashable {
    public var paused: Double = 0
    public var pauseFile: Double = 0
    public var window: Double = 0
    public var throttled: Double = 0
    public var health: Double = 0
    /// Seconds each budget or health signal held a worker back before its next batch, summed over
    /// workers (keyed by `ControlSignal` name). Not part of `total`: workers held by a budget
    /// while another works are not a run waiting.
    public var held: [String: Double] = [:]
    /// The signal holding the run back now, as of the latest checkpoint (`nil`: none reported).
    public var binding: Binding?

    /// Which signal binds, and since when; `signal` `nil`: none binds any more.
    public struct Binding: Sendable, Codable, Hashable {
        public var signal: ControlSignal?
        public var since: Date

        /// - Parameters:
        ///   - signal: the signal that binds, `nil` for none.
        ///   - since: when it started to bind (or stopped, for none).
        public init(signal: ControlSignal?, since: Date) {
            self.signal = signal
            self.since = since
        }

        enum CodingKeys: String, CodingKey {
            case signal, since
        }

        /// A signal a later version named, unknown to this one, reads as none (the record stays readable).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            signal = try container.decodeIfPresent(String.self, forKey: .signal).flatMap(ControlSignal.init(rawValue:))
            since = try container.decode(Date.self, forKey: .since)
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case paused, pauseFile, window, throttled, health, held, binding
    }

    /// Stored before `health` existed, a record has none: 0.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        paused = try container.decodeIfPresent(Double.self, forKey: .paused) ?? 0
        pauseFile = try container.decodeIfPresent(Double.self, forKey: .pauseFile) ?? 0
        window = try container.decodeIfPresent(Double.self, forKey: .window) ?? 0
        throttled = try container.decodeIfPresent(Double.self, forKey: .throttled) ?? 0
        health = try container.decodeIfPresent(Double.self, forKey: .health) ?? 0
        held = try container.decodeIfPresent([String: Double].self, forKey: .held) ?? [:]
        binding = try container.decodeIfPresent(Binding.self, forKey: .binding)
    }

    /// Nothing to add to a stored record.
    public var isEmpty: Bool { total == 0 && held.isEmpty && binding == nil }

    public var total: Double { paused + pauseFile + window + throttled + health }

    public static func + (lhs: WaitTimes, rhs: WaitTimes) -> WaitTimes {
        var sum = WaitTimes()
        sum.paused = lhs.paused + rhs.paused
        sum.pauseFile = lhs.pauseFile + rhs.pauseFile
        sum.window = lhs.window + rhs.window
        sum.throttled = lhs.throttled + rhs.throttled
        sum.health = lhs.health + rhs.health
        sum.held = lhs.held.merging(rhs.held, uniquingKeysWith: +)
        sum.binding = rhs.binding ?? lhs.binding
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
