import BackfillCore
import BackfillFiles
import BackfillHTTP
import BackfillMySQL
import BackfillPostgres
import BackfillSQLite
import Foundation
import Logging

/// A spec wired to its real source and sink, checked against both.
struct PreparedJob: Sendable {
    var loaded: LoadedSpec
    var job: ResolvedJob
    /// The source, reading the job's columns.
    var opened: OpenedSource
    /// The target, configured for the job.
    var target: ConfiguredTarget
    /// The same-engine fast path, when source and target are both SQLite.
    var transfer: (any BatchTransfer)?
    /// Skips equal chunks and reads only the rows of a batch whose hashes differ, where the two
    /// engines can hash rows alike.
    var paths = HashedPaths()
    /// The pools and clients the job opened.
    var connections: Connections
    /// `health.replicas`: the MySQL replicas whose lag `health.replica-lag` bounds.
    var replicas: MySQLReplicas?

    var spec: JobSpec { loaded.spec }
    var source: any Source { opened.reader }
    var sink: any Sink { target.writer }
    var comparer: (any RangeComparer)? { paths.comparer }
    var differ: (any RangeDiffer)? { paths.differ }
}

/// Builds sources and sinks from a spec: the one place that knows every adapter.
enum JobWiring {
    /// Loads and prepares the spec at `specPath`, runs `body` with it, and closes its connections
    /// whatever `body` does.
    /// - Parameters:
    ///   - checkKey: also scan the source for NULL and duplicate keys.
    ///   - creating: what to do with a target table the spec asks to create (`TargetCreation`).
    ///   - lease: the process's lease; no transaction of its connections stays idle for longer.
    static func withPrepared<T>(
        specPath: String, checkKey: Bool, creating: TargetCreation.Mode = .none, lease: Duration = .seconds(15),
        _ body: (PreparedJob) async throws -> T
    ) async throws -> T {
        try await withPrepared(SpecLoader.load(path: specPath), checkKey: checkKey, creating: creating, lease: lease, body)
    }

    /// Prepares a loaded spec, runs `body` with it, and closes its connections.
    static func withPrepared<T>(
        _ loaded: LoadedSpec, checkKey: Bool, creating: TargetCreation.Mode = .none, lease: Duration = .seconds(15),
        _ body: (PreparedJob) async throws -> T
    ) async throws -> T {
        try await Connections.using(loaded.spec, lease: lease) { connections in
            try await TargetCreation.apply(creating, to: loaded, connections: connections)
            return try await body(try await prepare(loaded, checkKey: checkKey, connections: connections))
        }
    }

    /// Opens source and target of a loaded spec and checks the spec against them.
    /// - Throws: `SpecProblems` listing every problem, or `BackfillError`.
    private static func prepare(_ loaded: LoadedSpec, checkKey: Bool, connections: Connections) async throws -> PreparedJob {
        let spec = loaded.spec
        var problems: [SpecProblem] = []
        var source: OpenedSource?
        var sourceTable: TableDescription?
        do {
            let opened = try await openSource(spec, columns: nil, connections: connections)
            sourceTable = try await opened.reader.describe()
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
        guard problems.isEmpty, let source, let sourceTable, let sink, let targetTable else {
            throw SpecProblems(problems)
        }
        let job = try SpecChecker.resolve(loaded, source: sourceTable, target: targetTable)
        try await checkPortableTypes(loaded, job: job, source: source, sink: sink)
        let configured = try await openSource(spec, columns: job.columns, connections: connections)
        if checkKey { try await configured.reader.checkKey() }
        let target = try await sink.configured(for: job)
        let paths = try await HashedPaths.pick(spec, job: job, source: configured, sink: sink, target: target)
        return PreparedJob(
            loaded: loaded, job: job, opened: configured, target: target,
            transfer: try openTransfer(spec, job: job, target: target), paths: paths, connections: connections,
            replicas: try await openReplicas(loaded, connections: connections))
    }

    /// The replicas `health.replicas` names, each checked to answer; `nil` without any.
    /// - Throws: `SpecProblems` naming each replica that cannot be reached (never its password).
    private static func openReplicas(_ loaded: LoadedSpec, connections: Connections) async throws -> MySQLReplicas? {
        let dsns = loaded.spec.health.replicas
        guard !dsns.isEmpty else { return nil }
        var databases: [MySQLDatabase] = []
        var problems: [SpecProblem] = []
        for dsn in dsns {
            do {
                databases.append(try await connections.mysql(dsn))
            } catch let error as BackfillError {
                problems.append(loaded.problem("health.replicas", error.description))
            }
        }
        if !problems.isEmpty { throw SpecProblems(problems) }
        return MySQLReplicas(databases)
    }

    /// Opens the source a spec names; with `columns`, ready to read them.
    static func openSource(_ spec: JobSpec, columns: [String]?, connections: Connections) async throws -> OpenedSource {
        let location = spec.source.kind == .postgres || spec.source.kind == .mysql ? spec.source.location : spec.resolve(path: spec.source.location)
        switch spec.source.kind {
        case .sqlite:
            let source = try SQLiteSource(path: location, table: spec.source.table ?? "", key: spec.key, range: spec.range)
            return .sqlite(source.selecting(columns ?? []))
        case .csv:
            return .csv(CSVSource(path: location, columns: columns ?? []))
        case .jsonl:
            return .jsonl(JSONLSource(path: location, columns: columns ?? []))
        case .postgres:
            let database = try await connections.database(location)
            let source = PostgresSource(database: database, table: spec.source.table ?? "", key: spec.key, range: spec.range)
            return .postgres(try await source.selecting(columns ?? []))
        case .mysql:
            let database = try await connections.mysql(location)
            let source = MySQLSource(database: database, table: spec.source.table ?? "", key: spec.key, range: spec.range)
            return .mysql(try await source.selecting(columns ?? []))
        case .webhook:
            throw BackfillError(.invalidSpec, "a \(spec.source.kind.rawValue) source is not supported by this version yet")
        }
    }

    /// Columns that cross between PostgreSQL and another engine must have a faithful form there.
    private static func checkPortableTypes(_ loaded: LoadedSpec, job: ResolvedJob, source: OpenedSource, sink: OpenedSink) async throws {
        var problems: [SpecProblem] = []
        if case .postgres(let postgres) = source, loaded.spec.target.kind != .postgres {
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

    private static func openTransfer(_ spec: JobSpec, job: ResolvedJob, target: ConfiguredTarget) throws -> (any BatchTransfer)? {
        guard spec.source.kind == .sqlite, case .sqlite(let sink) = target, SQLiteAttachedTransfer.supports(job),
            let sourceTable = spec.source.table, let targetTable = spec.target.table
        else { return nil }
        return try SQLiteAttachedTransfer(
            sourcePath: spec.resolve(path: spec.source.location), sourceTable: sourceTable,
            targetPath: spec.resolve(path: spec.target.location), targetTable: targetTable, job: job, journal: sink.journal)
    }

    private static func openSink(_ spec: JobSpec, connections: Connections) async throws -> OpenedSink {
        switch spec.target.kind {
        case .sqlite:
            return .sqlite(try SQLiteSink(path: spec.resolve(path: spec.target.location), table: spec.target.table ?? ""))
        case .postgres:
            let database = try await connections.database(spec.target.location)
            return .postgres(PostgresSink(database: database, table: spec.target.table ?? ""))
        case .mysql:
            return .mysql(MySQLSink(database: try await connections.mysql(spec.target.location), table: spec.target.table ?? ""))
        case .webhook:
            return .webhook(WebhookSink(
                url: spec.target.location, options: spec.target.webhook ?? WebhookSpec(), client: await connections.httpClient(),
                logger: LogBootstrap.logger("backfill.webhook")))
        case .jsonl:
            return .eventsFile(spec.resolve(path: spec.target.location))
        default:
            throw BackfillError(.invalidSpec, "a \(spec.target.kind.rawValue) target is not supported by this version yet")
        }
    }

    static func isPostgres(_ statePath: String) -> Bool {
        statePath.hasPrefix("postgres://") || statePath.hasPrefix("postgresql://")
    }

    /// The sink a run of the job writes through: a webhook records deliveries in the job's ledger in
    /// `state` (and skips what it holds); other targets as prepared.
    static func sink(_ prepared: PreparedJob, state: any StateStore) -> any Sink {
        guard case .webhook(let webhook) = prepared.target else { return prepared.sink }
        return webhook.recording(into: state.ledger(job: prepared.spec.name))
    }

    /// The runner of a prepared job over `state`: an event target records deliveries in the
    /// state store's ledger of the job (and skips what it holds), and a PostgreSQL target whose
    /// database holds the state store commits each batch's checkpoint with its rows.
    static func runner(
        _ prepared: PreparedJob, state: OpenedState, configuration: RunnerConfiguration, logger: Logger, observer: any RunObserver = SilentObserver()
    ) -> Runner {
        var checkpointing: (any CheckpointingSink)?
        if case (.postgres(let target), .postgres(let store)) = (prepared.target, state) {
            checkpointing = PostgresCheckpointingSink(sink: target, state: store)
        }
        var configuration = configuration
        if case .postgres(let target) = prepared.target {
            if configuration.replicaLag != nil { configuration.standbys = { try await target.standbys() } }
            // Also without a WAL budget in the spec: `backfill set` may give one.
            configuration.walPosition = { try await target.walPosition() }
            if configuration.targetLatency != nil { configuration.targetProbe = { try await target.probeLatency() } }
            configuration.liveSessions = { try await target.otherSessions() }
        }
        if case .postgres(let source) = prepared.opened, configuration.replicaLag != nil {
            configuration.sourceLag = { try await source.replicationLag() }
        }
        if let replicas = prepared.replicas, configuration.replicaLag != nil {
            configuration.standbys = { try await replicas.readings() }
        }
        return Runner(
            job: prepared.job, source: prepared.source, sink: sink(prepared, state: state.store), state: state.store, configuration: configuration, logger: logger,
            observer: observer, transfer: prepared.transfer, comparer: prepared.comparer, differ: prepared.differ,
            checkpointing: checkpointing)
    }

    /// Opens the state store a spec names (created when `create`).
    static func stateStore(for spec: JobSpec, create: Bool, lease: Duration = .seconds(15)) async throws -> OpenedState {
        try await openStateStore(spec.statePath, create: create, lease: lease)
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
        try await openStateStore(path, create: create, lease: lease).store
    }

    /// `openState`, keeping which store it is.
    static func openStateStore(_ path: String, create: Bool, lease: Duration = .seconds(15)) async throws -> OpenedState {
        if isPostgres(path) {
            return .postgres(try await PostgresStateStore.open(path, create: create, lease: lease, logger: Connections.postgresLogger))
        }
        if path.contains("://") {
            throw BackfillError(.invalidInput, "a state store is a SQLite file or a postgres:// DSN", location: Redaction.redact(path))
        }
        return .sqlite(try SQLiteStateStore(path: path, create: create))
    }
}
