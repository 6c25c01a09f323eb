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
/// `application_name`). A reading that fails counts as live traffic: the run stays gentle while
/// it cannot see (it fails closed) and says so once.
public actor LiveTrafficSensor {
    /// What a reading found.
    public struct Reading: Sendable, Equatable {
        /// Sessions of other applications at work; `nil` when they cannot be read.
        public var sessions: Int?
        /// Why not, when they cannot be read.
        public var problem: String?

        public init(sessions: Int?, problem: String? = nil) {
            self.sessions = sessions
            self.problem = problem
        }

        /// Live traffic is there (or cannot be ruled out).
        public var present: Bool { (sessions ?? 1) > 0 }
    }

    private let mode: LiveTrafficMode
    private let read: (@Sendable () async throws -> Int)?
    private let clock: any RunClock
    private var last: (reading: Reading, at: ContinuousClock.Instant)?
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
        let now = clock.now
        if let last, last.at.duration(to: now) < .seconds(1) { return (last.reading.present, nil) }
        let reading: Reading
        do {
            reading = Reading(sessions: try await read())
        } catch {
            reading = Reading(sessions: nil, problem: (error as? BackfillError)?.message ?? String(describing: error))
        }
        last = (reading, clock.now)
        guard let problem = reading.problem, !reportedProblem else { return (reading.present, nil) }
        reportedProblem = true
        return (true, problem)
    }
}
