import BackfillCore
import BackfillFiles
import BackfillHTTP
import BackfillMySQL
import BackfillPostgres
import BackfillSQLite

/// A source as its adapter opened it. The case says what the source can do besides reading rows,
/// so wiring picks capabilities by pattern, never by downcasting `any Source`.
enum OpenedSource: Sendable {
    case sqlite(SQLiteSource)
    case postgres(PostgresSource)
    case mysql(MySQLSource)
    case csv(CSVSource)
    case jsonl(JSONLSource)

    /// The rows, as the runner reads them.
    var reader: any Source {
        switch self {
        case .sqlite(let source): source
        case .postgres(let source): source
        case .mysql(let source): source
        case .csv(let source): source
        case .jsonl(let source): source
        }
    }

    /// The source as a table `verify` reads and queries; `nil` for an export file.
    var table: (any VerifySide)? {
        switch self {
        case .sqlite(let source): source
        case .postgres(let source): source
        case .mysql(let source): source
        case .csv, .jsonl: nil
        }
    }
}

/// A target before it is configured for a job.
enum OpenedSink {
    case sqlite(SQLiteSink)
    case postgres(PostgresSink)
    case mysql(MySQLSink)
    case webhook(WebhookSink)
    /// An append-only events file, opened once the job's columns are known.
    case eventsFile(String)

    /// The target's columns; an event target takes whatever the source's events carry (`nil`).
    func describe() async throws -> TableDescription? {
        switch self {
        case .sqlite(let sink): return try await sink.describe()
        case .postgres(let sink): return try await sink.describe()
        case .mysql(let sink): return try await sink.describe()
        case .webhook, .eventsFile: return nil
        }
    }

    func configured(for job: ResolvedJob) async throws -> ConfiguredTarget {
        switch self {
        case .sqlite(let sink): return .sqlite(try await sink.configured(for: job))
        case .postgres(let sink): return .postgres(try await sink.configured(for: job))
        case .mysql(let sink): return .mysql(try await sink.configured(for: job))
        case .webhook(let sink): return .webhook(try sink.configured(for: job))
        case .eventsFile(let path): return .eventsFile(try JSONLEventSink(path: path, job: job))
        }
    }
}

/// A target configured for a job, with what it can do besides writing.
enum ConfiguredTarget: Sendable {
    case sqlite(SQLiteSink)
    case postgres(PostgresSink)
    case mysql(MySQLSink)
    case webhook(WebhookSink)
    case eventsFile(JSONLEventSink)

    /// The target, as the runner writes to it.
    var writer: any Sink {
        switch self {
        case .sqlite(let sink): sink
        case .postgres(let sink): sink
        case .mysql(let sink): sink
        case .webhook(let sink): sink
        case .eventsFile(let sink): sink
        }
    }

    /// The target, to delete rows only it has (`verify --repair --delete-extra`); `nil` for events.
    var deleting: (any DeletingSink)? {
        switch self {
        case .sqlite(let sink): sink
        case .postgres(let sink): sink
        case .mysql(let sink): sink
        case .webhook, .eventsFile: nil
        }
    }

    /// The target table read like a source (the spec's key and range), reading `columns`, for
    /// `verify`; `nil` for an event target.
    func table(_ spec: JobSpec, columns: [String]) async throws -> (any VerifySide)? {
        guard let table = spec.target.table else { return nil }
        switch self {
        case .sqlite:
            return try SQLiteSource(path: spec.resolve(path: spec.target.location), table: table, key: spec.key, range: spec.range)
                .selecting(columns)
        case .postgres(let sink):
            return try await PostgresSource(database: sink.database, table: table, key: spec.key, range: spec.range).comparing(columns)
        case .mysql(let sink):
            return try await MySQLSource(database: sink.database, table: table, key: spec.key, range: spec.range).comparing(columns)
        case .webhook, .eventsFile:
            return nil
        }
    }
}
