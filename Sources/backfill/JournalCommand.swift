import ArgumentParser
import BackfillCore
import Foundation

/// `backfill journal RUN`: what a journaled run changed.
struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "What a journaled run changed: rows it inserted, updated and deleted, by key.")

    @Argument(help: "The run id.")
    var run: Int64

    @Option(help: "List at most this many entries (oldest first); the counts cover them all.")
    var limit = 100

    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (0...1_000_000).contains(limit) else { throw ValidationError("--limit must be between 0 and 1000000") }
    }

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let journaled = try await JournaledRun.open(run, statePath: stateOptions.state)
            let (journal, close) = try await journaled.openJournal()
            defer { close() }
            let summary = try await journal.summary(of: journaled.record)
            let entries = try await journal.entries(of: journaled.record, limit: limit)
            let listing = JournalListing(
                run: run, job: journaled.record.job, table: journaled.table, inserted: summary.inserted, updated: summary.updated,
                deleted: summary.deleted, bytes: summary.bytes, entries: entries)
            if common.json {
                print(try Output.json(listing))
                return
            }
            print("run \(run) of \(listing.job) into \(listing.table): inserted \(Output.number(listing.inserted)) · updated \(Output.number(listing.updated)) · deleted \(Output.number(listing.deleted)) · \(Output.bytes(Int(listing.bytes))) journaled")
            let names = ["inserted", "updated", "deleted"]
            var listed = 0
            for entry in entries {
                let op = ["i": names[0], "u": names[1], "d": names[2], "c": names[0]][entry.op] ?? entry.op
                var line = "  \(entry.seq)  \(entry.at)  \(op.padding(toLength: 8, withPad: " ", startingAt: 0))  \(Output.key(entry.key.map { $0.map(Value.text) ?? .null }))"
                if let rows = entry.rows {
                    // One entry for a batch COPYed into a key range that held no row: its first key.
                    line += " and \(Output.number(rows - 1)) more keys, COPYed in one batch"
                }
                print(line)
                listed += entry.rows ?? 1
            }
            let total = listing.inserted + listing.updated + listing.deleted
            if total > listed { print("  … \(Output.number(total - listed)) more rows (--limit)") }
        }
    }
}

/// `backfill journal RUN --json`.
struct JournalListing: Codable {
    var run: Int64
    var job: String
    var table: String
    var inserted: Int
    var updated: Int
    var deleted: Int
    /// The size of the run's entries' values.
    var bytes: Int64
    var entries: [JournalEntry]
}
