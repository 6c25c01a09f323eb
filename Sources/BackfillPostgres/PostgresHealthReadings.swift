import BackfillCore
import PostgresNIO

extension PostgresSink {
    /// The standbys streaming this target's WAL (`pg_stat_replication`), for `health.replica-lag`.
    public func standbys() async throws -> [StandbyReplay] {
        let rows = try await database.textRows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT coalesce(nullif(application_name, ''), 'pid ' || pid) || coalesce(' at ' || host(client_addr), ''),
                           coalesce(replay_lsn::text, ''),
                           coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'))::bigint::text,
                           extract(epoch FROM replay_lag)::text
                    FROM pg_stat_replication
                    """), "reading the target's standbys")
        return rows.map { row in
            StandbyReplay(
                name: row[0] ?? "?", replayPosition: row[1] ?? "", behindBytes: row[2].flatMap { Int64($0) } ?? 0,
                reportedLag: row[3].flatMap { Double($0) })
        }
    }
}

extension PostgresSink {
    /// This target's WAL position in bytes (`pg_current_wal_lsn()`), for `limits.wal-bytes-per-second`.
    public func walPosition() async throws -> Int64 {
        let rows = try await database.textRows(
            PostgresQuery(unsafeSQL: "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint::text"), "reading the target's WAL position")
        guard let text = rows.first?[0], let position = Int64(text) else {
            throw BackfillError(.unavailable, kind: .transient, "the target returned no WAL position", location: "limits.wal-bytes-per-second")
        }
        return position
    }
}

extension PostgresSink {
    /// Seconds a trivial query (`SELECT 1`) takes on this target, for `health.target-latency`.
    public func probeLatency() async throws -> Double {
        let started = ContinuousClock.now
        _ = try await database.textRows(PostgresQuery(unsafeSQL: "SELECT 1"), "probing the target's latency")
        return started.duration(to: .now).inSeconds
    }
}

extension PostgresSink {
    /// Sessions of other applications at work on this target's database, for
    /// `health.live-traffic`: client backends (not `backfill`'s own, which identify themselves by
    /// `application_name`) in a statement or a transaction, or that finished one within the last
    /// second. A session whose state this role may not see (another role's, without
    /// `pg_read_all_stats`: PostgreSQL then hides its `backend_type` and `state` too) counts as
    /// working: the run cannot rule it out.
    public func otherSessions() async throws -> Int {
        let rows = try await database.textRows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT count(*)::text FROM pg_stat_activity
                    WHERE datname = current_database() AND coalesce(backend_type, 'client backend') = 'client backend'
                      AND pid <> pg_backend_pid()
                      AND application_name IS DISTINCT FROM 'backfill'
                      AND (state IS NULL OR state <> 'idle' OR state_change > now() - interval '1 second')
                    """), "reading other sessions on the target")
        guard let text = rows.first?[0], let count = Int(text) else {
            throw BackfillError(.unavailable, kind: .transient, "the target returned no session count", location: "health.live-traffic")
        }
        return count
    }
}

extension PostgresSource {
    /// How many seconds this source, when it is a standby, replays its primary's WAL late: the age
    /// of the last transaction it replayed while it has received WAL it has not replayed yet, 0
    /// when it has replayed everything it received; `nil` when it is no standby. For
    /// `health.replica-lag`. A standby that streams from no primary (its WAL receiver is gone, so
    /// what it received says nothing of what it lacks), or that has replayed no transaction yet
    /// while WAL waits, cannot say how far behind it is: that is an error, and the run waits.
    public func replicationLag() async throws -> Double? {
        let rows = try await database.textRows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT pg_is_in_recovery()::text,
                           EXISTS (SELECT 1 FROM pg_stat_wal_receiver)::text,
                           (pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn())::text,
                           extract(epoch FROM now() - pg_last_xact_replay_timestamp())::text
                    """), "reading the source's replication lag")
        guard let row = rows.first, let recovering = row[0] else {
            throw BackfillError(.unavailable, kind: .transient, "the source returned no recovery state", location: "health.replica-lag")
        }
        guard recovering == "true" else { return nil }
        guard row[1] == "true" else {
            throw BackfillError(
                .unavailable, kind: .transient, "the source is a standby that streams from no primary now (no WAL receiver)",
                location: "health.replica-lag")
        }
        if row[2] == "true" { return 0 }
        guard let age = row[3].flatMap({ Double($0) }) else {
            throw BackfillError(
                .unavailable, kind: .transient, "the source is a standby that has replayed no transaction yet", location: "health.replica-lag")
        }
        return max(0, age)
    }
}
