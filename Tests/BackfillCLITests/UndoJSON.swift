import Foundation

/// The parts of `backfill undo RUN --json` the tests read.
struct UndoJSON: Decodable {
    var status: String
    var entries: Int
    var restored: Int
    var deleted: Int
    var reinserted: Int
    var wouldChange: Int
    var alreadyUndone: Int
    var conflicts: Int
    var conflictKeys: [[String?]]

    /// `backfill undo ARGS --json` in `dir`, and its outcome when it printed one.
    static func run(in dir: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (Binary.Result, UndoJSON?) {
        let result = try await Binary.run(["undo"] + arguments + ["--json"], in: dir, environment: environment)
        return (result, try? JSONDecoder().decode(UndoJSON.self, from: Data(result.stdout.utf8)))
    }
}
