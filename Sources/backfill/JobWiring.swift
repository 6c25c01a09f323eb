import BackfillCore
import BackfillFiles
import BackfillSQLite
import Foundation

/// A spec wired to its real source and sink, checked against both.
struct PreparedJob {
    var loaded: LoadedSpec
    var job: ResolvedJob
    var source: any Source
    var sink: any Sink
    /// The same-engine fast path, when source and target are both SQLite.
    var transfer: (any BatchTransfer)?

    var spec: JobSpec { loaded.spec }
}

/// Builds sources and sinks from a spec: the one place that knows every adapter.
enum JobWiring {
    /// Loads the spec, opens source and target, and checks the spec against them.
    /// - Parameter checkKey: also scan the source for NULL and duplicate keys.
    /// - Throws: `SpecProblems` listing every problem, or `BackfillError`.
    static func prepare(specPath: String, checkKey: Bool) async throws -> PreparedJob {
        let loaded = try SpecLoader.load(path: specPath)
        let spec = loaded.spec
        var problems: [SpecProblem] = []
        var source: (any Source)?
        var sourceTable: TableDescription?
        do {
            let opened = try openSource(spec, columns: nil)
            sourceTable = try await opened.describe()
            source = opened
        } catch let error as BackfillError {
            problems.append(loaded.problem("source.\(spec.source.kind.rawValue)", error.description))
        }
        var sink: SQLiteSink?
        var targetTable: TableDescription?
        do {
            let opened = try openSink(spec)
            targetTable = try await opened.describe()
            sink = opened
        } catch let error as BackfillError {
            problems.append(loaded.problem("target.\(spec.target.kind.rawValue)", error.description))
        }
        guard problems.isEmpty, source != nil, let sourceTable, let sink, let targetTable else {
            throw SpecProblems(problems)
        }
        let job = try SpecChecker.resolve(loaded, source: sourceTable, target: targetTable)
        let configured = try openSource(spec, columns: job.columns)
        if checkKey { try await configured.checkKey() }
        return PreparedJob(
            loaded: loaded, job: job, source: configured, sink: sink.configured(for: job), transfer: try openTransfer(spec, job: job))
    }

    static func openSource(_ spec: JobSpec, columns: [String]?) throws -> any Source {
        let location = spec.source.kind == .postgres ? spec.source.location : spec.resolve(path: spec.source.location)
        switch spec.source.kind {
        case .sqlite:
            let source = try SQLiteSource(path: location, table: spec.source.table ?? "", key: spec.key, range: spec.range)
            return source.selecting(columns ?? [])
        case .csv:
            return CSVSource(path: location, columns: columns ?? [])
        case .jsonl:
            return JSONLSource(path: location, columns: columns ?? [])
        case .postgres, .webhook:
            throw BackfillError(.invalidSpec, "a \(spec.source.kind.rawValue) source is not supported by this version yet")
        }
    }

    private static func openTransfer(_ spec: JobSpec, job: ResolvedJob) throws -> (any BatchTransfer)? {
        guard spec.source.kind == .sqlite, spec.target.kind == .sqlite, SQLiteAttachedTransfer.supports(job),
            let sourceTable = spec.source.table, let targetTable = spec.target.table
        else { return nil }
        return try SQLiteAttachedTransfer(
            sourcePath: spec.resolve(path: spec.source.location), sourceTable: sourceTable,
            targetPath: spec.resolve(path: spec.target.location), targetTable: targetTable, job: job)
    }

    private static func openSink(_ spec: JobSpec) throws -> SQLiteSink {
        guard spec.target.kind == .sqlite else {
            throw BackfillError(.invalidSpec, "a \(spec.target.kind.rawValue) target is not supported by this version yet")
        }
        return try SQLiteSink(path: spec.resolve(path: spec.target.location), table: spec.target.table ?? "")
    }

    /// Opens the state store a spec names (created when `create`).
    static func stateStore(for spec: JobSpec, create: Bool) throws -> SQLiteStateStore {
        try openState(spec.statePath, create: create)
    }

    /// Opens the state store at `path` and finds run `id` in it.
    /// - Throws: `BackfillError` `.invalidInput` naming the store when either is missing.
    static func openRun(_ id: Int64, statePath path: String) async throws -> (SQLiteStateStore, RunRecord) {
        let state = try openState(path, create: false)
        guard let run = try await state.run(id: id) else {
            throw BackfillError(.invalidInput, "no run \(id) in the state store", location: path)
        }
        return (state, run)
    }

    /// Opens a state store given on the command line.
    static func openState(_ path: String, create: Bool) throws -> SQLiteStateStore {
        if path.contains("://") {
            throw BackfillError(.invalidInput, "a PostgreSQL state store is not supported by this version yet", location: Redaction.redact(path))
        }
        return try SQLiteStateStore(path: path, create: create)
    }
}
