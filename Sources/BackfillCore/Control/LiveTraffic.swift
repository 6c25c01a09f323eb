/// `health.live-traffic`: whether the run slows down for other applications working on the
/// target's database.
public enum LiveTrafficMode: String, Sendable, Codable, CaseIterable, Hashable {
    /// Gentle while other applications' sessions work on the target's database, full speed when
    /// none does (the default on a PostgreSQL target).
    case auto
    /// Always gentle, as if live traffic were there.
    case gentle
    /// Never slows down for others (budgets and the other health limits still hold).
    case fullSpeed = "full-speed"
}

/// Sees other applications' work on the target's database, at most once a second: sessions of
/// other applications that are in a statement or a transaction, or finished one within the last
/// second (PostgreSQL's `pg_stat_activity`; `backfill`'s own sessions are left out by their
/// `application_name`). Live traffic counts as gone only after none was seen for `linger`, so an
/// application that works every few seconds does not toggle the run. A reading that fails counts
/// as live traffic: the run stays gentle while it cannot see (it fails closed) and says so once.
public actor LiveTrafficSensor {
    /// What a reading found.
    public struct Reading: Sendable, Equatable {
        /// Sessions of other applications at work; `nil` when they cannot be read.
        public var sessions: Int?
        /// Why not, when they cannot be read.
        public var problem: String?

        /// - Parameters:
        ///   - sessions: other applications' working sessions, `nil` when they cannot be read.
        ///   - problem: why they cannot be read.
        public init(sessions: Int?, problem: String? = nil) {
            self.sessions = sessions
            self.problem = problem
        }

        /// Live traffic is there (or cannot be ruled out).
        public var present: Bool { (sessions ?? 1) > 0 }
    }

    /// How long live traffic counts as there after it was last seen.
    public static let linger: Duration = .seconds(10)

    private let mode: LiveTrafficMode
    private let read: (@Sendable () async throws -> Int)?
    private let clock: any RunClock
    private var last: (reading: Reading, at: ContinuousClock.Instant)?
    /// The reading under way: workers arriving meanwhile wait for it instead of asking again.
    private var inFlight: Task<Reading, Never>?
    private var lastSeen: ContinuousClock.Instant?
    private var reportedProblem = false

    /// - Parameter read: counts other applications' working sessions on the target's database;
    ///   `nil` on a target that cannot say (there `auto` means full speed).
    public init(mode: LiveTrafficMode, read: (@Sendable () async throws -> Int)?, clock: any RunClock) {
        self.mode = mode
        self.read = read
        self.clock = clock
    }

    /// Whether the run is to be gentle now, and a problem to report the first time one occurs.
    public func sense() async -> (present: Bool, newProblem: String?) {
        switch mode {
        case .fullSpeed: return (false, nil)
        case .gentle: return (true, nil)
        case .auto: break
        }
        guard let read else { return (false, nil) }
        var problem: String?
        if let last, last.at.duration(to: clock.now) < .seconds(1) {
            // The last reading stands.
        } else if let inFlight {
            _ = await inFlight.value
        } else {
            let task = Task<Reading, Never> {
                do {
                    return Reading(sessions: try await read())
                } catch {
                    return Reading(sessions: nil, problem: BackfillError.message(of: error))
                }
            }
            inFlight = task
            let reading = await task.value
            inFlight = nil
            last = (reading, clock.now)
            if reading.present { lastSeen = clock.now }
            if let found = reading.problem, !reportedProblem {
                reportedProblem = true
                problem = found
            }
        }
        guard let lastSeen else { return (false, problem) }
        return (lastSeen.duration(to: clock.now) < Self.linger, problem)
    }
}
