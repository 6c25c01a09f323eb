/// `journal:` — whether a run keeps the before-image of every row it changes, so that it can be
/// taken back, and for how long.
///
/// Every run into a SQLite or PostgreSQL table is journaled for 7 days unless the spec says
/// `journal: off`; `journal: { keep: 30d }` keeps it longer (`journal: on`: the default). Event
/// targets keep none. The journal lives beside the target table, in the target's database, and
/// each entry is written in the transaction that writes its row: an entry exists exactly when its
/// write committed.
public struct JournalSpec: Sendable, Codable, Hashable {
    /// How long a run's entries are kept, in seconds; `nil`: no journal.
    public var keep: Double?

    public init(keep: Double? = nil) {
        self.keep = keep
    }

    public var isOn: Bool { keep != nil }

    /// The default `keep`: a week.
    public static let defaultKeep: Double = 7 * 24 * 3600
}
