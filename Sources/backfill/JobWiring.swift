import BackfillCore
import BackfillFiles
import BackfillHTTP
import BackfillPostgres
import BackfillSQLite
import Foundation
import Logging

/// A spec wired to its real source and sink, checked against both.
struct PreparedJob {
    var loaded: LoadedSpec
    var job: ResolvedJob
    var source: any Source
    var sink: any Sink
    /// The same-engine fast path, when source and target are both SQLite.
    var transfer: (any BatchTransfer)?
    /// Skips chunks already equal on both sides, when source and target are both PostgreSQL.
    var comparer: (any RangeComparer)? = nil

    var spec: JobSpec { loaded.spec }
}

/// Builds sources and sinks from a spec: the one place that knows every adapter.
enum JobWiring {
    /// Loads the spec, opens source and target, and checks the spec against them.
    /// - Parameter checkKey: also scan the source for NULL and duplicate keys.
    /// - Throws: `SpecProblems` listing every problem, or `BackfillError`.
    static func prepare(specPath: String, checkKey: Bool) async throws -> PreparedJob {
        try await prepare(SpecLoader.load(path: specPath), checkKey: checkKey)
    }

    /// Opens source and target of a loaded spec and checks the spec against them.
    static func prepare(_ loaded: LoadedSpec, checkKey: Bool) async throws -> PreparedJob {
        let spec = loaded.spec
        let connections = PostgresConnections(spec)
        var problems: [SpecProblem] = []
        var source: (any Source)?
        var sourceTable: TableDescription?
        do {
            let opened = try await openSource(spec, columns: nil, connections: connections)
            sourceTable = try await opened.describe()
            source = opened
        } catch let error as BackfillError {
            problems.append(loaded.problem("source.\(spec.source.kind.rawValue)", error.description))
        }
        var sink: OpenedSink?
        var targetTable: TableDescription?
        do {
            let opened = try await openSink(spec, connections: connections)
            // A webhook receives the source's columns as they are.
            targetTable = try await opened.describe() ?? sourceTable
            sink = opened
        } catch let error as BackfillError {
            problems.append(loaded.problem("target.\(spec.target.kind.rawValue)", error.description))
        }
        guard problems.isEmpty, source != nil, let sourceTable, let sink, let targetTable else {
            throw SpecProblems(problems)
        }
        let job = try SpecChecker.resolve(loaded, source: sourceTable, target: targetTable)
        try await checkPortableTypes(loaded, job: job, source: source!, sink: sink)
        let configured = try await openSource(spec, columns: job.columns, connections: connections)
        if checkKey { try await configured.checkKey() }
        var comparer: (any RangeComparer)?
        if let postgres = configured as? PostgresSource, case .postgres(let target) = sink, spec.mode != .updateInPlace {
            comparer = try await PostgresRangeComparer.make(source: postgres, target: target, job: job)
        }
        return PreparedJob(
            loaded: loaded, job: job, source: configured, sink: try await sink.configured(for: job),
            transfer: try openTransfer(spec, job: job), comparer: comparer)
    }

    /// Opens the source a spec names; with `columns`, ready to read them.
    static func openSource(_ spec: JobSpec, columns: [String]?, connections: PostgresConnections) async throws -> any Source {
        let location = spec.source.kind == .postgres ? spec.source.location : spec.resolve(path: spec.source.location)
        switch spec.source.kind {
        case .sqlite:
            let source = try SQLiteSource(path: location, table: spec.source.table ?? "", key: spec.key, range: spec.range)
            return source.selecting(columns ?? [])
        case .csv:
            return CSVSource(path: location, columns: columns ?? [])
        case .jsonl:
            return JSONLSource(path: location, columns: columns ?? [])
        case .postgres:
            let database = try await connections.database(location)
            let source = PostgresSource(database: database, table: spec.source.table ?? "", key: spec.key, range: spec.range)
            return try await source.selecting(columns ?? [])
        case .webhook:
            throw BackfillError(.invalidSpec, "a \(spec.source.kind.rawValue) source is not supported by this version yet")
        }
    }

    /// Columns that cross between PostgreSQL and another engine must have a faithful form there.
    private static func checkPortableTypes(_ loaded: LoadedSpec, job: ResolvedJob, source: any Source, sink: OpenedSink) async throws {
        var problems: [SpecProblem] = []
        if let postgres = source as? PostgresSource, loaded.spec.target.kind != .postgres {
            let info = try await postgres.tableInfo()
            for column in job.columns {
                if let type = info.type(of: column), !type.crossesEngines {
                    problems.append(loaded.problem(
                        "columns", "source column '\(column)' has type \(type.formatted), which has no faithful form in \(loaded.spec.target.kind.rawValue); cast it in a view or leave it out of columns"))
                }
            }
        }
        if case .postgres(let postgres) = sink, loaded.spec.source.kind != .postgres {
            let info = try await postgres.tableInfo()
            for column in job.columns {
                if let type = info.type(of: column), !type.crossesEngines {
                    problems.append(loaded.problem(
                        "columns", "target column '\(column)' has type \(type.formatted), which backfill cannot fill from \(loaded.spec.source.kind.rawValue) values; leave it out of columns"))
                }
            }
        }
        if !problems.isEmpty { throw SpecProblems(problems) }
    }

    private static func openTransfer(_ spec: JobSpec, job: ResolvedJob) throws -> (any BatchTransfer)? {
        guard spec.source.kind == .sqlite, spec.target.kind == .sqlite, SQLiteAttachedTransfer.supports(job),
            let sourceTable = spec.source.table, let targetTable = spec.target.table
        else { return nil }
        return try SQLiteAttachedTransfer(
            sourcePath: spec.resolve(path: spec.source.location), sourceTable: sourceTable,
            targetPath: spec.resolve(path: spec.target.location), targetTable: targetTable, job: job)
    }

    private static func openSink(_ spec: JobSpec, connections: PostgresConnections) async throws -> OpenedSink {
        switch spec.target.kind {
        case .sqlite:
            return .sqlite(try SQLiteSink(path: spec.resolve(path: spec.target.location), table: spec.target.table ?? ""))
        case .postgres:
            let database = try await connections.database(spec.target.location)
            return .postgres(PostgresSink(database: database, table: spec.target.table ?? ""))
        case .webhook:
            return .webhook(WebhookSink(url: spec.target.location, options: spec.target.webhook ?? WebhookSpec()))
        case .jsonl:
            return .eventsFile(spec.resolve(path: spec.target.location))
        default:
            throw BackfillError(.invalidSpec, "a \(spec.target.kind.rawValue) target is not supported by this version yet")
        }
    }

    static func isPostgres(_ statePath: String) -> Bool {
        statePath.hasPrefix("postgres://") || statePath.hasPrefix("postgresql://")
    }

    /// The runner of `run` and `worker` over `state`: an event target records deliveries in the
    /// state store's ledger of the job (and skips what it holds), and a PostgreSQL target whose
    /// database holds the state store commits each batch's checkpoint with its rows.
    static func runner(
        _ prepared: PreparedJob, state: any StateStore, configuration: RunnerConfiguration, logger: Logger, observer: any RunObserver
    ) -> Runner {
        var sink = prepared.sink
        if let webhook = sink as? WebhookSink { sink = webhook.recording(into: state.ledger(job: prepared.spec.name)) }
        var checkpointing: (any CheckpointingSink)?
        if let target = prepared.sink as? PostgresSink, let store = state as? PostgresStateStore {
            checkpointing = PostgresCheckpointingSink(sink: target, state: store)
        }
        return Runner(
            job: prepared.job, source: prepared.source, sink: sink, state: state, configuration: configuration, logger: logger,
            observer: observer, transfer: prepared.transfer, comparer: prepared.comparer, checkpointing: checkpointing)
    }

    /// Opens the state store a spec names (created when `create`).
    static func stateStore(for spec: JobSpec, create: Bool, lease: Duration = .seconds(15)) async throws -> any StateStore {
        try await openState(spec.statePath, create: create, lease: lease)
    }

    /// Opens the state store at `path` and finds run `id` in it.
    /// - Throws: `BackfillError` `.invalidInput` naming the store when either is missing.
    static func openRun(_ id: Int64, statePath path: String) async throws -> (any StateStore, RunRecord) {
        let state = try await openState(path, create: false)
        guard let run = try await state.run(id: id) else {
            throw BackfillError(.invalidInput, "no run \(id) in the state store", location: Redaction.redact(path))
        }
        return (state, run)
    }

    /// Opens a state store given on the command line or in a spec: a SQLite file, or a
    /// `postgres://` DSN.
    /// - Parameter lease: how long chunks claimed from a PostgreSQL store stay this process's
    ///   without a heartbeat.
    static func openState(_ path: String, create: Bool, lease: Duration = .seconds(15)) async throws -> any StateStore {
        if isPostgres(path) {
            return try await PostgresStateStore.open(path, create: create, lease: lease)
        }
        if path.contains("://") {
            throw BackfillError(.invalidInput, "a state store is a SQLite file or a postgres:// DSN", location: Redaction.redact(path))
        }
        return try SQLiteStateStore(path: path, create: create)
    }
}

/// A target sink before it is configured for a job.
enum OpenedSink {
    case sqlite(SQLiteSink)
    case postgres(PostgresSink)
    case webhook(WebhookSink)
    /// An append-only events file, opened once the job's columns are known.
    case eventsFile(String)

    /// The target's columns; an event target takes whatever the source's events carry (`nil`).
    func describe() async throws -> TableDescription? {
        switch self {
        case .sqlite(let sink): return try await sink.describe()
        case .postgres(let sink): return try await sink.describe()
        case .webhook, .eventsFile: return nil
        }
    }

    func configured(for job: ResolvedJob) async throws -> any Sink {
        switch self {
        case .sqlite(let sink): return sink.configured(for: job)
        case .postgres(let sink): return try await sink.configured(for: job)
        case .webhook(let sink): return try sink.configured(for: job)
        case .eventsFile(let path): return try JSONLEventSink(path: path, job: job)
        }
    }
}

/// One connection pool per PostgreSQL DSN, so a job whose source and target share a database
/// opens it once.
actor PostgresConnections {
    private let maxConnections: Int
    private let timeouts: PostgresTimeouts
    private var open: [String: PostgresDatabase] = [:]

    /// Pools sized for the spec's workers, with its lock and statement timeouts.
    init(_ spec: JobSpec) {
        self.maxConnections = spec.workers + 2
        self.timeouts = PostgresTimeouts(lock: spec.limits.lockTimeout, statement: spec.limits.statementTimeout)
    }

    func database(_ dsn: String) async throws -> PostgresDatabase {
        if let database = open[dsn] { return database }
        let database = try await PostgresDatabase.connect(dsn, maxConnections: maxConnections, timeouts: timeouts)
        open[dsn] = database
        return database
    }
}
