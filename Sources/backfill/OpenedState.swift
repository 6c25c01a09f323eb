import BackfillCore
import BackfillPostgres
import BackfillSQLite

/// A state store as it was opened: the case says whether a PostgreSQL target can commit its
/// checkpoints in the same transaction as its rows.
enum OpenedState: Sendable {
    case sqlite(SQLiteStateStore)
    case postgres(PostgresStateStore)
    /// A dry run's store, forgotten when the process ends.
    case memory(InMemoryStateStore)

    var store: any StateStore {
        switch self {
        case .sqlite(let store): store
        case .postgres(let store): store
        case .memory(let store): store
        }
    }
}
