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

    /// Commits and quits, and waits for `psql` to exit.
    public func end() throws {
        try input.write(contentsOf: Data("COMMIT;\n\\q\n".utf8))
        try input.close()
        process.waitUntilExit()
    }
}
