import Foundation

/// A MariaDB server of the test's own (its data folder, its port), so that restarting it cannot
/// disturb other tests. Started like `scripts/lib/mariadb.sh` starts the shared one; as the
/// `mysql` user when the tests run as root (the server drops to it itself).
public struct PrivateMariaDB: Sendable {
    public let dir: String
    public let port: Int
    public var server: MariaDBFixture { MariaDBFixture(host: "127.0.0.1", port: port, user: "root") }

    private static var user: String { getuid() == 0 ? "mysql" : NSUserName() }

    public static func start() async throws -> PrivateMariaDB {
        let dir = try Fixtures.temporaryDirectory("mariadb")
        if getuid() == 0 { try FileManager.default.setAttributes([.ownerAccountName: "mysql"], ofItemAtPath: dir) }
        try await SpawnedCommand.run(
            [
                "/usr/bin/mariadb-install-db", "--no-defaults", "--datadir=\(dir)/data", "--user=\(user)",
                "--auth-root-authentication-method=normal", "--skip-test-db",
            ], wait: true)
        var attempt = 0
        while true {
            let server = PrivateMariaDB(dir: dir, port: try PrivateCluster.freePort())
            do {
                try await server.startAgain()
                return server
            } catch {
                // A port the kernel just gave out can be taken before the server binds it.
                attempt += 1
                guard attempt < 5, server.log.contains("Address already in use") || server.log.contains("Can't start server") else { throw error }
            }
        }
    }

    /// The server's log so far.
    public var log: String { (try? String(contentsOfFile: dir + "/server.log", encoding: .utf8)) ?? "" }

    /// Starts the server on its port and waits until it answers (or has died).
    public func startAgain() async throws {
        let pid = try await SpawnedCommand.run(
            [
                "/usr/sbin/mariadbd", "--no-defaults", "--datadir=\(dir)/data", "--user=\(Self.user)", "--port=\(port)",
                "--bind-address=127.0.0.1", "--socket=\(dir)/sock", "--pid-file=\(dir)/pid", "--skip-name-resolve",
                "--innodb-flush-log-at-trx-commit=2", "--innodb-buffer-pool-size=32M", "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_bin", "--log-error=\(dir)/server.log",
            ], wait: false)
        // The event: the server answers, or its process is gone.
        while true {
            if (try? await server.sql(nil, "SELECT 1")) == "1" { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { throw FixtureError("MariaDB did not start in \(dir):\n\(log.suffix(2000))") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// `SHUTDOWN`: every connection is dropped, in-flight transactions roll back, and new
    /// connections are refused until `startAgain`. Returns once the server has gone.
    public func shutDown() async throws {
        let pid = (try? String(contentsOfFile: dir + "/pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        try await server.sql(nil, "SHUTDOWN")
        // The event: the server's process has exited (its pid no longer names a process).
        if let pid = pid.flatMap({ Int32($0) }) {
            // It is this process's child: reaped here, or it would linger as a zombie `kill` still finds.
            var status: Int32 = 0
            while waitpid(pid, &status, WNOHANG) != pid && kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// Stops the server at once and removes its files.
    public func stop() async {
        if let pid = (try? String(contentsOfFile: dir + "/pid", encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
}
