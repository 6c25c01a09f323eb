import Foundation

/// A PostgreSQL cluster of the test's own, so restarting it cannot disturb other tests.
public struct PrivateCluster: Sendable {
    public let dir: String
    public let port: Int
    let bin: String
    public var server: PostgresFixture { PostgresFixture(host: "127.0.0.1", port: port, user: "postgres") }

    public static func start() async throws -> PrivateCluster {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { $0.compare($1, options: .numeric) == .orderedAscending }).last else {
            throw FixtureError("no PostgreSQL binaries under /usr/lib/postgresql")
        }
        let dir = try Fixtures.temporaryDirectory("pgcluster")
        let bin = "/usr/lib/postgresql/\(version)/bin"
        if getuid() == 0 { try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: dir) }
        try await PrivateCluster(dir: dir, port: 0, bin: bin).ctl(["\(bin)/initdb", "-D", dir + "/data", "-A", "trust", "-U", "postgres"])
        return try await startServer(dir: dir, bin: bin)
    }

    /// Starts the server of the data folder in `dir` on a free port. A port the kernel just gave
    /// out can be taken again before the server binds it (another test's server, an outgoing
    /// connection): then the start fails saying so, and another port is tried.
    private static func startServer(dir: String, bin: String) async throws -> PrivateCluster {
        var attempt = 0
        while true {
            let cluster = PrivateCluster(dir: dir, port: try Self.freePort(), bin: bin)
            do {
                try await cluster.ctl(["\(bin)/pg_ctl", "-D", dir + "/data", "-l", dir + "/log", "-w", "-o", cluster.options, "start"])
                return cluster
            } catch {
                attempt += 1
                guard attempt < 5, cluster.log.contains("Address already in use") else { throw error }
            }
        }
    }

    /// A physical standby of this cluster (`pg_basebackup -R`), streaming its WAL, on a port of its own.
    public func startStandby() async throws -> PrivateCluster {
        let dir = try Fixtures.temporaryDirectory("pgstandby")
        if getuid() == 0 { try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: dir) }
        try await ctl([
            "\(bin)/pg_basebackup", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-D", dir + "/data", "-R", "-X", "stream",
            "-c", "fast",
        ])
        // -R wrote primary_conninfo; name the standby so pg_stat_replication shows which one it is.
        let conf = dir + "/data/postgresql.auto.conf"
        let text = try String(contentsOfFile: conf, encoding: .utf8)
        try (text + "\nprimary_conninfo = 'host=127.0.0.1 port=\(port) user=postgres application_name=standby1'\n")
            .write(toFile: conf, atomically: true, encoding: .utf8)
        return try await Self.startServer(dir: dir, bin: bin)
    }

    /// A port of 127.0.0.1 no socket holds now (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw FixtureError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw FixtureError("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Log lines start with the application name, so a test can see whose connection was cut.
    private var options: String { "-c listen_addresses=127.0.0.1 -p \(port) -k \(dir) -c fsync=off -c log_line_prefix=app=%a@" }

    /// The server's log so far.
    public var log: String { (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? "" }

    /// How many connections of `application` the server terminated while they ran a statement:
    /// the server logs that statement (after CONTEXT lines) below the FATAL line; idle connections have none.
    public func interruptedStatements(of application: String) -> Int {
        var count = 0
        var inTermination = false
        for line in log.split(separator: "\n") where line.hasPrefix("app=\(application)@") {
            let message = line.dropFirst("app=\(application)@".count)
            if message.hasPrefix("FATAL:  terminating connection") {
                inTermination = true
            } else if inTermination, message.hasPrefix("STATEMENT:") {
                count += 1
                inTermination = false
            } else if !message.hasPrefix("CONTEXT:") && !message.hasPrefix("DETAIL:") {
                inTermination = false
            }
        }
        return count
    }

    /// `pg_ctl stop -m fast`, then start: every connection is dropped, in-flight transactions roll back.
    public func restart() async throws {
        try await shutDown()
        try await startAgain()
    }

    /// `pg_ctl stop -m fast`: every connection is dropped, in-flight transactions roll back, and
    /// new connections are refused until `startAgain`.
    public func shutDown() async throws {
        try await ctl(["\(bin)/pg_ctl", "-D", dir + "/data", "-w", "-t", "20", "-m", "fast", "stop"])
    }

    /// Starts the server `shutDown` stopped, on the same port.
    public func startAgain() async throws {
        try await ctl(["\(bin)/pg_ctl", "-D", dir + "/data", "-l", dir + "/log", "-w", "-o", options, "start"])
    }

    /// Stops the server at once and removes its files.
    public func stop() async {
        try? await ctl(["\(bin)/pg_ctl", "-D", dir + "/data", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs a server command as the `postgres` user when the tests run as root (initdb refuses root).
    private func ctl(_ command: [String]) async throws {
        let argv = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + command : command
        do {
            try await SpawnedCommand.run(argv)
        } catch {
            throw FixtureError("\(command[0]) failed: \(error)")
        }
    }
}
