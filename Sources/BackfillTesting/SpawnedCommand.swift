import Foundation

/// Starts a server's command with `posix_spawn`, its output discarded, not with Foundation's
/// `Process`: that one waits for a pipe it gives the child to close, and a server the command
/// leaves running inherits the pipe and keeps it open.
enum SpawnedCommand {
    /// Spawns `argv`; with `wait`, waits for it and fails on a non-zero exit, else returns its pid
    /// at once (a server left running, this process's child).
    @discardableResult
    static func run(_ argv: [String], wait: Bool = true) async throws -> pid_t {
        try await PostgresFixture.offPool {
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            var cArguments = argv.map { strdup($0) } + [nil]
            defer { cArguments.forEach { free($0) } }
            var pid: pid_t = 0
            guard posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ) == 0 else {
                throw FixtureError("cannot start \(argv[0])")
            }
            guard wait else { return pid }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            guard status == 0 else { throw FixtureError("\(argv[0]) failed (status \(status))") }
            return pid
        }
    }
}
