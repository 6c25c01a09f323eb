import BackfillTesting
import Foundation
import Testing

/// `scripts/install.sh`, `backfill --version`, and the README's "A first job" run as written with
/// the installed binary on the PATH.
@Suite(.timeLimit(.minutes(4)))
struct InstallTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Runs `script` with bash in `directory`, to completion.
    static func shell(_ script: String, in directory: String, environment: [String: String] = [:]) async throws -> Binary.Result {
        try await Binary.run(["-c", script], in: directory, environment: environment, executable: "/bin/bash")
    }

    /// The commands of the README's "A first job", as written.
    static func firstJob() throws -> [String] {
        let readme = try String(contentsOfFile: repository + "/README.md", encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## A first job").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first)
        return block.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    @Test("--version names the release and the commit it was built from")
    func version() async throws {
        let result = try await Binary.run(["--version"], in: NSTemporaryDirectory())
        #expect(result.status == 0)
        let line = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.range(of: #"^\d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?\)$"#, options: .regularExpression) != nil, "\(line)")
    }

    @Test("install.sh puts backfill into PREFIX/bin and says where; the README's first job then runs as written")
    func installAndFirstJob() async throws {
        let dir = try Fixtures.temporaryDirectory("install")
        let binary = URL(fileURLWithPath: Binary.path).standardizedFileURL.path
        let prefix = dir + "/prefix with space"
        let install = try await Self.shell(
            "scripts/install.sh \"$PREFIX\"", in: Self.repository, environment: ["BACKFILL_BINARY": binary, "PREFIX": prefix])
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stdout.contains("installed backfill ") && install.stdout.contains("at \(prefix)/bin/backfill"), "\(install.stdout)")
        #expect(install.stdout.contains("is not on your PATH"))
        #expect(FileManager.default.isExecutableFile(atPath: prefix + "/bin/backfill"))

        let work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let path = prefix + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let commands = try Self.firstJob()
        #expect(commands.count >= 6 && commands.allSatisfy { $0.hasPrefix("backfill ") }, "\(commands)")
        for command in commands {
            let result = try await Self.shell(command, in: work, environment: ["PATH": path])
            #expect(result.status == 0, "\(command): \(result.stderr.suffix(1500))")
        }
        // The example spec copies these columns (not `note`).
        let copied = "(SELECT id, customer_id, status, total_cents, updated_at FROM orders)"
        #expect(try Fixtures.dump(path: work + "/data/replica.db", table: copied) == Fixtures.dump(path: work + "/data/primary.db", table: copied))

        // A relative PREFIX names a folder from where the script was run.
        let relative = try await Self.shell(
            "\"$REPO\"/scripts/install.sh local/", in: dir, environment: ["BACKFILL_BINARY": binary, "REPO": Self.repository])
        #expect(relative.status == 0 && relative.stdout.contains("at \(dir)/local/bin/backfill"), "\(relative.stdout) \(relative.stderr)")

        let unwritable = try await Self.shell("scripts/install.sh /proc/backfill", in: Self.repository, environment: ["BACKFILL_BINARY": binary])
        #expect(unwritable.status == 2 && unwritable.stderr.contains("cannot write to /proc/backfill/bin"), "\(unwritable.stderr)")
    }
}
