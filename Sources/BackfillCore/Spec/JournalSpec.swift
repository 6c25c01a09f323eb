/// `journal:` — whether a run keeps the before-image of every row it changes, so that it can be
/// taken back, and for how long.
///
/// `journal: { keep: 7d }` (or `journal: on`, keeping 7 days) turns it on; `journal: off`, or no
/// `journal:`, leaves it off. The journal lives beside the target table, in the target's database,
/// and each entry is written in the transaction that writes its row: an entry exists exactly when
/// its write committed.
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
