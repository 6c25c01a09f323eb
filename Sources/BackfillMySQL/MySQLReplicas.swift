import BackfillCore

/// The MySQL or MariaDB replicas `health.replicas` names, read with `SHOW REPLICA STATUS` (or
/// `SHOW SLAVE STATUS` on servers before MariaDB 10.5 and MySQL 8.0.22) for `health.replica-lag`.
///
/// A replica that reports no lag — its SQL thread stopped (`Seconds_Behind_Master` is NULL), or
/// no replication configured at all — cannot say how far behind it is: that is an error, and the
/// run waits (fails closed) until it can.
public struct MySQLReplicas: Sendable {
    let replicas: [MySQLDatabase]

    /// The replicas, each opened (`MySQLDatabase`) from its DSN.
    public init(_ replicas: [MySQLDatabase]) {
        self.replicas = replicas
    }

    /// Each replica's replay, one reading per replication channel (a replica of several sources
    /// has one each): its name (host and port, and the channel), its applier's position in the
    /// source's binary log, whether it has received events it has not applied, and the lag it reports.
    public func readings() async throws -> [StandbyReplay] {
        var readings: [StandbyReplay] = []
        for replica in replicas {
            readings += try await Self.readings(of: replica)
        }
        return readings
    }

    /// The statements that list every channel, newest spelling first: MariaDB's `SHOW ALL
    /// REPLICAS STATUS` (10.5.1) and `SHOW ALL SLAVES STATUS`, MySQL's `SHOW REPLICA STATUS`
    /// (8.0.22) and `SHOW SLAVE STATUS`. A server refuses the ones it does not know as syntax (1064).
    static let statements = ["SHOW ALL REPLICAS STATUS", "SHOW REPLICA STATUS", "SHOW ALL SLAVES STATUS", "SHOW SLAVE STATUS"]

    static func readings(of replica: MySQLDatabase) async throws -> [StandbyReplay] {
        let name = "\(replica.dsn.host):\(replica.dsn.port)"
        var result: (names: [String], rows: [[[UInt8]?]])?
        for statement in statements {
            do {
                result = try await replica.namedRows(statement, "reading replica \(name)'s status")
                break
            } catch let error as BackfillError where error.message.contains("[MySQL 1064]") {
                continue
            }
        }
        let channels = (result?.rows ?? []).map { ReplicaStatus(names: result?.names ?? [], row: $0) }
        guard !channels.isEmpty else {
            throw BackfillError(.unavailable, kind: .transient, "\(name) is not a replica (SHOW REPLICA STATUS is empty)", location: "health.replicas")
        }
        return try channels.map { try reading(of: $0, name: name) }
    }

    private static func reading(of status: ReplicaStatus, name server: String) throws -> StandbyReplay {
        let channel = status.text("Connection_name", "Channel_Name").flatMap { $0.isEmpty ? nil : $0 }
        let name = server + (channel.map { " channel \($0)" } ?? "")
        guard let lag = status.number("Seconds_Behind_Source", "Seconds_Behind_Master") else {
            throw BackfillError(
                .unavailable, kind: .transient,
                "replica \(name) reports no lag: its SQL thread is \(status.text("Replica_SQL_Running", "Slave_SQL_Running") ?? "not running")"
                    + (status.text("Last_SQL_Error").map { $0.isEmpty ? "" : " (\($0))" } ?? ""),
                location: "health.replicas")
        }
        let appliedFile = status.text("Relay_Source_Log_File", "Relay_Master_Log_File") ?? ""
        let applied = status.number("Exec_Source_Log_Pos", "Exec_Master_Log_Pos") ?? 0
        let receivedFile = status.text("Source_Log_File", "Master_Log_File") ?? ""
        let received = status.number("Read_Source_Log_Pos", "Read_Master_Log_Pos") ?? 0
        // Events received and not yet applied; a later file than the applier's counts as behind.
        let behind = receivedFile == appliedFile ? max(0, received - applied) : 1
        return StandbyReplay(name: name, replayPosition: "\(appliedFile):\(applied)", behindBytes: Int64(behind), reportedLag: Double(lag))
    }

    /// One row (one channel) of `SHOW REPLICA STATUS`, by column name.
    struct ReplicaStatus {
        let values: [String: String?]

        init(names: [String], row: [[UInt8]?]) {
            var values: [String: String?] = [:]
            for (name, cell) in zip(names, row) { values[name] = cell.map { String(decoding: $0, as: UTF8.self) } }
            self.values = values
        }

        /// The first of `names` the server reports (MySQL 8's and MariaDB's spellings differ).
        func text(_ names: String...) -> String? {
            for name in names { if let value = values[name] { return value } }
            return nil
        }

        func number(_ names: String...) -> Int? {
            for name in names { if let value = values[name] { return value.flatMap { Int($0) } } }
            return nil
        }
    }
}
