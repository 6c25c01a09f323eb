/// One standby streaming the target's WAL, as the target reports it (`pg_stat_replication`).
public struct StandbyReplay: Sendable, Hashable {
    /// `application_name` and client address: which standby.
    public var name: String
    /// The last WAL position it replayed.
    public var replayPosition: String
    /// Bytes of WAL the target wrote that it has not replayed yet.
    public var behindBytes: Int64
    /// The replay lag the target reports (`replay_lag`), when it reports one.
    public var reportedLag: Double?

    public init(name: String, replayPosition: String, behindBytes: Int64, reportedLag: Double?) {
        self.name = name
        self.replayPosition = replayPosition
        self.behindBytes = behindBytes
        self.reportedLag = reportedLag
    }
}

/// How far the target's standbys are behind, in seconds, from successive readings.
///
/// The server's `replay_lag` says how long ago the last replayed WAL was written — but a standby
/// whose replay stopped (paused, stuck on a conflict) stops reporting new lag. So a standby that
/// is behind and has not moved its replay position counts as lagging at least since it last moved.
/// A standby seen before that is missing now is *gone*: the run cannot know whether it keeps up.
public actor ReplicaLagGauge {
    /// The worst standby now, and those gone since the first reading.
    public struct Reading: Sendable, Equatable {
        public var worst: (name: String, seconds: Double)?
        public var gone: [String]

        public static func == (lhs: Reading, rhs: Reading) -> Bool {
            lhs.worst?.name == rhs.worst?.name && lhs.worst?.seconds == rhs.worst?.seconds && lhs.gone == rhs.gone
        }
    }

    private let clock: any RunClock
    private var known: Set<String>?
    private var stuck: [String: (position: String, since: ContinuousClock.Instant)] = [:]

    public init(clock: any RunClock) { self.clock = clock }

    /// Takes a reading of the standbys.
    public func observe(_ standbys: [StandbyReplay]) -> Reading {
        let now = clock.now
        let names = Set(standbys.map(\.name))
        if known == nil { known = names }
        var worst: (name: String, seconds: Double)?
        for standby in standbys {
            var seconds = 0.0
            if standby.behindBytes > 0 {
                if let last = stuck[standby.name], last.position == standby.replayPosition {
                    seconds = last.since.duration(to: now).inSeconds
                } else {
                    stuck[standby.name] = (standby.replayPosition, now)
                }
                seconds = max(seconds, standby.reportedLag ?? 0)
            } else {
                stuck[standby.name] = nil
            }
            if seconds > (worst?.seconds ?? -1) { worst = (standby.name, seconds) }
        }
        return Reading(worst: worst, gone: (known ?? []).subtracting(names).sorted())
    }
}

/// `health.replica-lag` as a gate: the run waits while a standby of the target is further behind
/// than the limit, or gone, or when the standbys cannot be read at all (it fails closed).
struct ReplicaLagGate: Sendable {
    let limit: Double
    let read: @Sendable () async throws -> [StandbyReplay]
    let gauge: ReplicaLagGauge

    func reasonToWait() async -> WaitReason? {
        let reading: ReplicaLagGauge.Reading
        do {
            reading = await gauge.observe(try await read())
        } catch {
            let cause = BackfillError.message(of: error)
            return WaitReason(.health, "waiting: the target's standbys cannot be read (\(cause)); health.replica-lag waits until they can", signal: .replicaLag)
        }
        if let gone = reading.gone.first {
            return WaitReason(
                .health,
                "waiting: standby \(gone) is gone from the target's pg_stat_replication; the run goes on when it is back "
                    + "(or run it again to keep only the standbys there are now)", signal: .replicaLag)
        }
        if let worst = reading.worst, worst.seconds > limit {
            return WaitReason(
                .health,
                "waiting: standby \(worst.name) is \(Self.format(worst.seconds)) s behind the target, above health.replica-lag \(Self.format(limit)) s", signal: .replicaLag)
        }
        return nil
    }

    static func format(_ seconds: Double) -> String {
        seconds.rounded() == seconds ? String(Int(seconds)) : String((seconds * 10).rounded() / 10)
    }
}

/// `health.replica-lag` on a source that is itself a standby: reading a replica that is behind its
/// primary copies stale truth, so the run waits while the source replays WAL more than the limit
/// late (`pg_last_xact_replay_timestamp()`, when it has received WAL it has not replayed yet), or
/// when its lag cannot be read (it fails closed). A source that is no standby reports `nil`.
struct SourceLagGate: Sendable {
    let limit: Double
    let read: @Sendable () async throws -> Double?

    func reasonToWait() async -> WaitReason? {
        let lag: Double?
        do {
            lag = try await read()
        } catch {
            let cause = BackfillError.message(of: error)
            return WaitReason(
                .health, "waiting: the source's replication lag cannot be read (\(cause)); health.replica-lag waits until it can",
                signal: .replicaLag)
        }
        guard let lag, lag > limit else { return nil }
        return WaitReason(
            .health,
            "waiting: the source is a standby \(ReplicaLagGate.format(lag)) s behind its primary, above health.replica-lag "
                + "\(ReplicaLagGate.format(limit)) s (it would copy stale rows)",
            signal: .replicaLag)
    }
}
