import BackfillCore
import BackfillSQLite
import BackfillTesting
import Foundation
import Logging

/// How batches travel from the source to the target.
enum WritePath: String, CaseIterable, CustomStringConvertible, Sendable {
    /// Read rows into Swift, compare, write (every source and target).
    case rows
    /// `SQLiteAttachedTransfer`: the target attaches the source and merges in SQL.
    case attached

    var description: String { rawValue }
}

/// A SQLite → SQLite job over fixture files, run through the real runner and state store.
struct JobHarness {
    let directory: String
    let kind: KeyKind
    var path: WritePath = .rows
    var sourcePath: String { directory + "/source.db" }
    var targetPath: String { directory + "/target.db" }
    var statePath: String { directory + "/.backfill/state.db" }

    /// Creates a source with `rows` rows and a damaged target copy.
    init(kind: KeyKind, rows: Int, path: WritePath = .rows) throws {
        self.kind = kind
        self.path = path
        directory = try Fixtures.temporaryDirectory("sqlite-\(kind)")
        try Fixtures.makeSource(path: directory + "/source.db", kind: kind, rows: rows)
        try Fixtures.makeDamagedCopy(of: directory + "/source.db", at: directory + "/target.db")
    }

    var orderBy: String { kind.keyColumns.joined(separator: ", ") }

    func loadSpec(mode: String = "upsert", extra: String = "", batch: String? = nil) throws -> LoadedSpec {
        let path = directory + "/job.yaml"
        var text = Fixtures.spec(kind: kind, mode: mode, extra: extra)
        if let batch { text = text.replacingOccurrences(of: "batch: { size: 500 }", with: "batch: \(batch)") }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try SpecLoader.load(path: path)
    }

    /// Runs the job (or resumes it) and returns the summary.
    func run(
        mode: String = "upsert", extra: String = "", batch: String? = nil, dryRun: Bool = false, limit: Int? = nil,
        state: (any StateStore)? = nil, clock: (any RunClock)? = nil,
        sink wrap: (any Sink) -> any Sink = { $0 }
    ) async throws -> RunSummary {
        let loaded = try loadSpec(mode: mode, extra: extra, batch: batch)
        let spec = loaded.spec
        let source = try SQLiteSource(path: sourcePath, table: "items", key: spec.key, range: spec.range)
        let sink = try SQLiteSink(path: targetPath, table: "items")
        let job = try SpecChecker.resolve(loaded, source: try await source.describe(), target: try await sink.describe())
        let configured = source.selecting(job.columns)
        try await configured.checkKey()
        let store = try state ?? SQLiteStateStore(path: statePath, create: true)
        var configuration = RunnerConfiguration(spec: spec)
        configuration.dryRun = dryRun
        configuration.limitRows = limit
        if let clock { configuration.clock = clock }
        let (run, _) = try await RunStarter(state: store).startOrResume(spec: spec) {
            try await configured.plan(workers: spec.workers)
        }
        let target = try await sink.configured(for: job)
        let transfer = path == .attached && SQLiteAttachedTransfer.supports(job)
            ? try SQLiteAttachedTransfer(
                sourcePath: sourcePath, sourceTable: "items", targetPath: targetPath, targetTable: "items", job: job, journal: target.journal)
            : nil
        let runner = Runner(
            job: job, source: configured, sink: wrap(target), state: store, configuration: configuration,
            logger: Logger(label: "test"), transfer: transfer)
        return try await runner.execute(run: run)
    }

    func sourceRows() throws -> [String] { try Fixtures.dump(path: sourcePath, orderBy: orderBy) }
    func targetRows() throws -> [String] { try Fixtures.dump(path: targetPath, orderBy: orderBy) }
}
