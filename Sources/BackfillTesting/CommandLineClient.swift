import Foundation

/// A database's command-line client (`psql`, `mariadb`) run with SQL on its standard input, on a
/// thread of its own (`PostgresFixture.offPool`), as the fixtures set up their databases.
enum CommandLineClient {
    /// Runs `arguments` (the client first) with `sql` as input and returns its output, trimmed.
    /// - Parameter environment: variables added to the test process's own.
    /// - Throws: `FixtureError` with the client's standard error when it exits non-zero.
    static func run(_ arguments: [String], input sql: String, environment: [String: String] = [:]) async throws -> String {
        try await PostgresFixture.offPool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let input = Pipe(), output = Pipe(), errors = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            // A client that failed early (refused, or stopped at an error) closes its input before
            // reading it all: the write fails with EPIPE, and its status and standard error say why.
            // (`write(_:)`, the non-throwing one, would trap on that.)
            var unread: (any Error)?
            do {
                try input.fileHandleForWriting.write(contentsOf: Data(sql.utf8))
            } catch {
                unread = error
            }
            try? input.fileHandleForWriting.close()
            let out = output.readAll()
            let err = errors.readAll()
            process.waitUntilExit()
            guard process.terminationStatus == 0, unread == nil else {
                let why = unread.map { " (its input was not read: \($0))" } ?? ""
                throw FixtureError("\(arguments[0]) failed\(why): \(String(decoding: err, as: UTF8.self))")
            }
            return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
