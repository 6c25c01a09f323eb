import BackfillTesting
import Foundation

/// The real `backfill` executable, run as a child process.
struct Binary {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// `BACKFILL_BIN`, or the `backfill` built beside the test bundle.
    static var path: String {
        if let path = ProcessInfo.processInfo.environment["BACKFILL_BIN"] { return path }
        let folder = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("backfill")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
        }
        return ".build/debug/backfill"
    }

    /// Starts `backfill ARGS` in `directory` without waiting; its output goes to `log` (a file in
    /// `directory`) or is discarded.
    static func launch(_ arguments: [String], in directory: String, log: String? = nil, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let log {
            FileManager.default.createFile(atPath: directory + "/" + log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/" + log))
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    /// Waits for a launched process off the cooperative thread pool; after `timeout` seconds it
    /// is killed (a test that waits for a process that never ends would otherwise hang the whole
    /// test run, which a time limit cannot interrupt).
    static func wait(_ process: Process, timeout: Double = 300) async {
        // On a thread of its own, not Dispatch's: Foundation notices children exit on a Dispatch
        // queue, which blocked Dispatch threads can starve while many tests wait at once.
        _ = try? await PostgresFixture.offPool {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    private static func start(
        _ arguments: [String], in directory: String, environment: [String: String] = [:], executable: String = Binary.path
    ) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    /// Runs `backfill ARGS` (or another `executable`) in `directory` to completion, blocking a
    /// thread of its own rather than one of Swift concurrency's few cooperative threads or
    /// Dispatch's (whose queue notices children exit).
    static func run(
        _ arguments: [String], in directory: String, environment: [String: String] = [:], executable: String = Binary.path
    ) async throws -> Result {
        try await PostgresFixture.offPool { try runBlocking(arguments, in: directory, environment: environment, executable: executable) }
    }

    static func runBlocking(
        _ arguments: [String], in directory: String, environment: [String: String], executable: String = Binary.path
    ) throws -> Result {
        let (process, out, err) = try start(arguments, in: directory, environment: environment, executable: executable)
        // No test may hang CI: a command still running after five minutes is killed (and fails its test).
        let watchdog = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 300, execute: watchdog)
        let stdout = out.readAll()
        let stderr = err.readAll()
        process.waitUntilExit()
        watchdog.cancel()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
