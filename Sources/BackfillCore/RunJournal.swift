import Foundation
import Synchronization

/// The journal of one target table (`journal:`): the before-image of every row a journaled run
/// changed, kept in the target's own database and written in the transaction that writes the row.
///
/// `backfill journal RUN` lists a run's entries, `backfill report RUN` counts them and
/// `backfill undo RUN` takes them back through the runner with `undoEndpoints(of:)`.
public protocol RunJournal: Sendable {
    /// The entries of `run` as a source (newest first) and the sink that takes them back, and how
    /// many entries there are.
    /// - Throws: `BackfillError` `.invalidInput` when the table keeps no journal.
    func undoEndpoints(of run: RunRecord) async throws -> UndoEndpoints

    /// What `run` changed, by its entries; all zero when the table keeps no journal.
    func summary(of run: RunRecord) async throws -> JournalSummary

    /// Up to `limit` of `run`'s entries, oldest first.
    func entries(of run: RunRecord, limit: Int) async throws -> [JournalEntry]

    /// Up to `limit` of `run`'s entries whose row does not hold its before-image now (a row the
    /// run inserted still exists, one it updated or deleted is not back as it was): after an undo,
    /// the conflicts it left alone — rows live traffic changed since the run wrote them.
    func unrestored(of run: RunRecord, limit: Int) async throws -> [JournalEntry]
}

/// The columns every journal table has besides the target's.
public enum JournalColumns {
    public static let own = [
        "backfill_seq", "backfill_run", "backfill_op", "backfill_after", "backfill_at", "backfill_keys", "backfill_hashes", "backfill_rows",
    ]

    /// - Throws: `BackfillError` `.invalidInput` naming the first of `columns` (the target's) that
    ///   has a name the journal uses itself.
    public static func check(_ columns: [String], location: String) throws {
        if let clash = columns.first(where: { own.contains($0.lowercased()) }) {
            throw BackfillError(
                .invalidInput, "column \(clash) has a name the journal uses for itself; this table cannot be journaled (journal: off)",
                location: location)
        }
    }
}

/// The source and sink of an undo, and what its batches did (or, in a dry run, would do).
public struct UndoEndpoints: Sendable {
    /// The entries of the run taken back, newest first.
    public var source: any Source
    /// Takes entries back; it adds each batch's counts to `tally` once the batch is done.
    public var sink: any Sink
    /// How many rows the run's entries stand for (a `COPY`ed batch's entry: its rows).
    public var entries: Int
    public var tally: UndoTally

    public init(source: any Source, sink: any Sink, entries: Int, tally: UndoTally) {
        self.source = source
        self.sink = sink
        self.entries = entries
        self.tally = tally
    }
}

/// What an undo's batches did in this process, by operation: rows put back to their before-image,
/// deleted (the run inserted them), inserted again (the run deleted them), already taken back, and
/// conflicts left alone. A dry run counts what it would do.
public final class UndoTally: Sendable {
    public struct Counts: Sendable, Codable, Hashable {
        public var restored = 0
        public var deleted = 0
        public var reinserted = 0
        public var alreadyUndone = 0
        public var conflicts = 0

        public init(restored: Int = 0, deleted: Int = 0, reinserted: Int = 0, alreadyUndone: Int = 0, conflicts: Int = 0) {
            self.restored = restored
            self.deleted = deleted
            self.reinserted = reinserted
            self.alreadyUndone = alreadyUndone
            self.conflicts = conflicts
        }

        /// The runner's counters for these: put back and deleted rows as updated, rows inserted again
        /// as inserted, entries already taken back as unchanged, conflicts as skipped.
        public var outcome: WriteOutcome {
            WriteOutcome(inserted: reinserted, updated: restored + deleted, unchanged: alreadyUndone, skipped: conflicts)
        }
    }

    private let counts = Mutex(Counts())

    public init() {}

    public func add(_ batch: Counts) {
        counts.withLock { total in
            total.restored += batch.restored
            total.deleted += batch.deleted
            total.reinserted += batch.reinserted
            total.alreadyUndone += batch.alreadyUndone
            total.conflicts += batch.conflicts
        }
    }

    public var total: Counts { counts.withLock { $0 } }
}

/// What one run's journal holds.
public struct JournalSummary: Sendable, Codable, Hashable {
    /// Rows the run inserted (entries `i`), updated (`u`) and deleted (`d`).
    public var inserted = 0
    public var updated = 0
    public var deleted = 0
    /// The size of the entries' values, in bytes (what the journal costs the target's database,
    /// before its own per-row and index overhead).
    public var bytes: Int64 = 0

    public init(inserted: Int = 0, updated: Int = 0, deleted: Int = 0, bytes: Int64 = 0) {
        self.inserted = inserted
        self.updated = updated
        self.deleted = deleted
        self.bytes = bytes
    }

    /// Counts by operation as a journal's `GROUP BY backfill_op` gives them (`i`, `u`, `d`).
    public init(counts: [String: Int], bytes: Int64) {
        self.init(inserted: counts["i"] ?? 0, updated: counts["u"] ?? 0, deleted: counts["d"] ?? 0, bytes: bytes)
    }

    public var entries: Int { inserted + updated + deleted }
}

/// One journal entry as `backfill journal RUN` lists it.
public struct JournalEntry: Sendable, Codable, Hashable {
    public var seq: Int64
    /// `i` inserted, `u` updated, `d` deleted by the run; `c` a batch of rows it `COPY`ed into a
    /// key range that held none (`key` its first key, `rows` how many).
    public var op: String
    /// When the entry was written, `YYYY-MM-DDTHH:MM:SSZ`.
    public var at: String
    /// The key's columns as text (`nil` for NULL).
    public var key: [String?]
    /// A `c` entry's number of rows; `nil` for the others.
    public var rows: Int?

    public init(seq: Int64, op: String, at: String, key: [String?], rows: Int? = nil) {
        self.seq = seq
        self.op = op
        self.at = at
        self.key = key
        self.rows = rows
    }
}

extension RunRecord {
    /// The tag of this run's journal entries: `JOB/RUN-ID@CREATED-MS` — the creation time tells
    /// apart runs of two state stores (a deleted `.backfill/`, another machine) that share a job
    /// name and id.
    public var journalTag: String {
        "\(job)/\(id)@\(Int64((createdAt.timeIntervalSince1970 * 1000).rounded()))"
    }
}
