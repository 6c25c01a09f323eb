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
