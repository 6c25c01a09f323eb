import Foundation

/// What `backfill --version` prints, and how to invoke the binary that is running.
enum Version {
    /// The release this source tree is.
    static let number = "0.9.0"

    /// `0.9.0 (commit 1a2b3c4d5e6f)`: the commit comes from the BuildInfo plugin at build time.
    static var text: String { "\(number) (commit \(BuildInfo.commit))" }

    /// How a user runs this same binary again: `backfill` when that name on the PATH is this
    /// binary, else its absolute path (`swift run` runs it from `.build/…`).
    static var command: String {
        // The executable itself (argv[0] may be a bare name found on the PATH).
        let executable = Bundle.main.executablePath ?? CommandLine.arguments[0]
        let running = URL(fileURLWithPath: executable).resolvingSymlinksInPath().path
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("backfill")
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate.resolvingSymlinksInPath().path == running ? "backfill" : quoted(running)
            }
        }
        return quoted(running)
    }

    private static func quoted(_ path: String) -> String {
        path.contains(where: { $0 == " " || $0 == "'" }) ? "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'" : path
    }
}
