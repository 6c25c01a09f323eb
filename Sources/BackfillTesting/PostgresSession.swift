import Foundation

/// Another application's session on a PostgreSQL database, held open by a `psql` process whose
/// input stays open: what `health.live-traffic` sees as live traffic while a transaction is open.
public final class PostgresSession {
    private let process: Process
    private let input: FileHandle

    /// Connects as `application` and opens a transaction (`BEGIN; SELECT 1;`), left open.
    public init(_ server: PostgresFixture, database: String, application: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", "-X", "-q", "-h", server.host, "-p", String(server.port), "-U", server.user, "-d", database]
        var environment = ProcessInfo.processInfo.environment
        environment["PGAPPNAME"] = application
        process.environment = environment
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.input = input.fileHandleForWriting
        try self.input.write(contentsOf: Data("BEGIN;\nSELECT 1;\n".utf8))
    }

    /// Sends `sql` (statements ending with `;`) to run in the open transaction; `psql` runs it
    /// when it gets to it: wait for its effect, not for this call.
    public func send(_ sql: String) throws {
        try input.write(contentsOf: Data((sql + "\n").utf8))
    }

    /// A session holding the transaction-level advisory lock `key`, once the server shows it
    /// granted: what a trigger that takes the lock shared makes the backfill's statements wait for,
    /// until `end()`.
    /// - Throws: `FixtureError` when the lock is not granted after 600 looks.
    public static func holdingAdvisoryLock(_ server: PostgresFixture, database: String, key: Int) async throws -> PostgresSession {
        let session = try PostgresSession(server, database: database, application: "lock-holder")
        try session.send("SELECT pg_advisory_xact_lock(\(key));")
        for _ in 0..<600 {
            let granted = try await server.psql(
                database, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = \(key) AND granted")
            if granted != "0" { return session }
        }
        try? session.end()
        throw FixtureError("the advisory lock \(key) was never granted")
    }

    /// Commits and quits, and waits for `psql` to exit.
    public func end() throws {
        try input.write(contentsOf: Data("COMMIT;\n\\q\n".utf8))
        try input.close()
        process.waitUntilExit()
    }
}
