import BackfillCore
import PostgresNIO

/// A PostgreSQL target whose run state lives in the same database: each batch's rows and its
/// checkpoint commit in one transaction, so every batch is counted exactly once — after a
/// `kill -9`, a lost connection or a commit whose reply never came.
public struct PostgresCheckpointingSink: CheckpointingSink {
    public private(set) var sink: PostgresSink
    public let state: PostgresStateStore

    /// `nil` unless `sink` and `state` are the same database reached as the same user (then one
    /// connection can write both in one transaction).
    public init?(sink: PostgresSink, state: PostgresStateStore) {
        guard Self.sameDatabase(sink.database.dsn, state.database.dsn) else { return nil }
        self.sink = sink
        self.state = state
    }

    static func sameDatabase(_ a: PostgresDSN, _ b: PostgresDSN) -> Bool {
        a.host.lowercased() == b.host.lowercased() && a.port == b.port && a.database == b.database && a.user == b.user
    }

    public func forRun(_ run: RunRecord) -> any CheckpointingSink {
        var tagged = self
        tagged.sink = sink.tagged(run)
        return tagged
    }

    /// Thrown inside the transaction to roll it back when the checkpoint had already committed.
    private struct AlreadyCommitted: Error {}

    public func write(_ rows: [[Value]], keyOrdered: Bool, checkpoint: Checkpoint) async throws -> Checkpoint? {
        let (sink, state) = (self.sink, self.state)
        try await sink.prepareJournal()
        do {
            return try await sink.database.transaction("writing a batch with its checkpoint") { connection in
                let outcome = try await sink.merge(rows, preview: false, on: connection)
                let sealed = checkpoint.with(outcome)
                guard try await state.apply(sealed, on: connection) else { throw AlreadyCommitted() }
                return sealed
            }
        } catch let error as BackfillError where error.underlying is AlreadyCommitted {
            return nil
        }
    }
}
