import Foundation

/// `window:` — the hours (and days) a run may work; outside them it finishes the batch in flight
/// and waits.
public struct WindowSpec: Sendable, Codable, Hashable {
    /// Minutes after midnight the window opens and closes; `close < open` wraps past midnight.
    public var openMinute: Int
    public var closeMinute: Int
    /// Allowed weekdays, 1 = Sunday … 7 = Saturday (`Calendar` numbering); empty = every day.
    public var weekdays: Set<Int>
    public var timeZone: String

    public init(openMinute: Int, closeMinute: Int, weekdays: Set<Int> = [], timeZone: String = "UTC") {
        self.openMinute = openMinute
        self.closeMinute = closeMinute
        self.weekdays = weekdays
        self.timeZone = timeZone
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(secondsFromGMT: 0)!
        return calendar
    }

    /// Whether `date` falls inside the window. A window that wraps midnight belongs to the day it opened.
    public func contains(_ date: Date) -> Bool {
        let calendar = self.calendar
        let parts = calendar.dateComponents([.hour, .minute, .weekday], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let weekday = parts.weekday ?? 1
        let previousDay = weekday == 1 ? 7 : weekday - 1
        let allowed = { (day: Int) in weekdays.isEmpty || weekdays.contains(day) }
        if openMinute <= closeMinute {
            return minute >= openMinute && minute < closeMinute && allowed(weekday)
        }
        if minute >= openMinute { return allowed(weekday) }
        return minute < closeMinute && allowed(previousDay)
    }

    /// The next time at or after `date` the window is open (searching minute steps over 8 days).
    public func nextOpening(after date: Date) -> Date? {
        if contains(date) { return date }
        let calendar = self.calendar
        var candidate = calendar.date(bySetting: .second, value: 0, of: date) ?? date
        for _ in 0..<(8 * 24 * 60) {
            candidate = candidate.addingTimeInterval(60)
            if contains(candidate) { return candidate }
        }
        return nil
    }

    /// Parses `HH:MM-HH:MM`.
    static func parseHours(_ text: String) -> (Int, Int)? {
        let ends = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        guard ends.count == 2, let open = minute(ends[0]), let close = minute(ends[1]), open != close else { return nil }
        return (open, close)
    }

    private static func minute(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0..<60).contains(m),
            h * 60 + m <= 24 * 60
        else { return nil }
        return h * 60 + m
    }

    static let dayNames = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]
}

/// `throttle:` — a query on the source database returning one number; above `max` the run waits.
public struct ThrottleSpec: Sendable, Codable, Hashable {
    public var query: String
    public var max: Double
    /// Seconds between two evaluations of the query.
    public var every: Double

    public init(query: String, max: Double, every: Double = 1) {
        self.query = query
        self.max = max
        self.every = every
    }
}

/// `health:` — signals of the live system the run keeps within limits; while one is exceeded, or
/// cannot be read, the run waits and says why, and goes on at a lowered load (`LoadController`).
public struct HealthSpec: Sendable, Codable, Hashable {
    /// Seconds the target's standbys may be behind in replaying its WAL (`pg_stat_replication`
    /// on a PostgreSQL target; `SHOW REPLICA STATUS` on each of `replicas`): past this the run waits.
    public var replicaLag: Double?
    /// MySQL replicas whose lag `replicaLag` bounds (DSNs: the target's replicas, or the source
    /// itself when it is a replica). A MySQL primary does not list its replicas' lag itself.
    public var replicas: [String]
    /// Seconds a trivial query on the target may take beyond its baseline (the fastest answer of
    /// the run so far): past this the run waits.
    public var targetLatency: Double?
    /// Whether the run slows down for other applications working on the target's database.
    public var liveTraffic: LiveTrafficMode
    /// Seconds of batch work per second (summed over workers) the run may do while it is gentle.
    public var gentleShare: Double

    /// The gentle share when the spec names none (measured with `scripts/bench.sh live`).
    public static let defaultGentleShare = 0.1

    public init(
        replicaLag: Double? = nil, replicas: [String] = [], targetLatency: Double? = nil, liveTraffic: LiveTrafficMode = .auto,
        gentleShare: Double = HealthSpec.defaultGentleShare
    ) {
        self.replicaLag = replicaLag
        self.replicas = replicas
        self.targetLatency = targetLatency
        self.liveTraffic = liveTraffic
        self.gentleShare = gentleShare
    }

    enum CodingKeys: String, CodingKey {
        case replicaLag, replicas, targetLatency, liveTraffic, gentleShare
    }

    /// A spec stored before `live-traffic` existed has the defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        replicaLag = try container.decodeIfPresent(Double.self, forKey: .replicaLag)
        replicas = try container.decodeIfPresent([String].self, forKey: .replicas) ?? []
        targetLatency = try container.decodeIfPresent(Double.self, forKey: .targetLatency)
        liveTraffic = try container.decodeIfPresent(LiveTrafficMode.self, forKey: .liveTraffic) ?? .auto
        gentleShare = try container.decodeIfPresent(Double.self, forKey: .gentleShare) ?? Self.defaultGentleShare
    }
}
