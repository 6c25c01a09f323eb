/// What a `BatchTransfer` did with one batch.
public struct TransferredBatch: Sendable {
    public var read: Int
    public var outcome: WriteOutcome
    /// The key of the batch's last row (the new cursor).
    public var cursor: Cursor?
    public var isLast: Bool

    public init(read: Int, outcome: WriteOutcome, cursor: Cursor?, isLast: Bool) {
        self.read = read
        self.outcome = outcome
        self.cursor = cursor
        self.isLast = isLast
    }
}

/// Moves a batch from source to target inside one engine, without shipping rows through Swift.
///
/// Offered when source and target live in the same engine (two SQLite files: the target attaches
/// the source), where a compare-and-merge statement runs several times faster than reading rows
/// out and writing them back. Same contract as read + write: one transaction, only differing rows
/// written, counts of inserted / updated / unchanged / skipped. When it throws a `.data` error the
/// runner redoes that batch through the row path, which isolates and quarantines the bad rows.
public protocol BatchTransfer: Sendable {
    func transfer(chunk: KeyRange, after cursor: Cursor?, limit: Int) async throws -> TransferredBatch

    /// This transfer for the batches of `run` (see `Sink.forRun`); by default the transfer itself.
    func forRun(_ run: RunRecord) -> any BatchTransfer
}

extension BatchTransfer {
    public func forRun(_ run: RunRecord) -> any BatchTransfer { self }
}
