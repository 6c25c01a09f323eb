import BackfillCore
import BackfillPostgres
import BackfillSQLite
import Foundation

/// `target: { create: true }` and `run --create-target`: a SQLite or PostgreSQL target table that
/// does not exist is designed from the source (`TargetDesign`) and created before the run — or,
/// for `validate`, `plan` and a dry run, only shown. An existing table is never altered.
enum TargetCreation {
    /// What a command does with a target table the spec asks to create.
    enum Mode: Sendable {
        /// Not asked for by the command (the spec's `create:` is still honoured by `run`).
        case none
        /// Show the table that would be created and stop (`TableToCreate`).
        case preview(asked: Bool)
        /// Create it, then go on.
        case create(asked: Bool)
    }

    /// Thrown by `.preview` when the table does not exist yet: its design, for the command to show.
    struct TableToCreate: Error {
        var design: TargetDesign
        var sourceRows: Int
    }

    /// Rows of a CSV or JSONL export read to infer its column types.
    static let sampleRows = 10_000

    /// Creates (or, for `.preview`, throws `TableToCreate` with) the target table when the spec or
    /// the command asks for it and it does not exist.
    static func apply(_ mode: Mode, to loaded: LoadedSpec, connections: Connections) async throws {
        let asked: Bool
        switch mode {
        case .none: return
        case .preview(let flag), .create(let flag): asked = flag || loaded.spec.target.create
        }
        guard asked, loaded.spec.events == nil else { return }
        let spec = loaded.spec
        guard let table = spec.target.table, spec.target.kind == .sqlite || spec.target.kind == .postgres else {
            throw SpecProblems([loaded.problem("target.create", "only a SQLite or PostgreSQL table target can be created")])
        }
        if try await exists(spec, table: table, connections: connections) { return }
        let (design, rows) = try await self.design(loaded, table: table, connections: connections)
        if case .preview = mode { throw TableToCreate(design: design, sourceRows: rows) }
        FileHandle.standardError.write(Data("creating \(spec.target.kind.rawValue) table \(table) (\(design.origin)):\n\(design.sql)\n".utf8))
        switch spec.target.kind {
        case .sqlite: try SQLiteTargetTable.create(design, path: spec.resolve(path: spec.target.location))
        default: try await PostgresTargetTable.create(design, in: try await connections.database(spec.target.location))
        }
    }

    private static func exists(_ spec: JobSpec, table: String, connections: Connections) async throws -> Bool {
        switch spec.target.kind {
        case .sqlite: return try SQLiteTargetTable.exists(path: spec.resolve(path: spec.target.location), table: table)
        default: return try await PostgresTargetTable.exists(table, in: try await connections.database(spec.target.location))
        }
    }

    /// The table, from the source's description: its columns (the spec's `columns:`, or all), the
    /// job's key as primary key; and the source's estimated rows.
    private static func design(_ loaded: LoadedSpec, table: String, connections: Connections) async throws -> (TargetDesign, Int) {
        let spec = loaded.spec
        let opened = try await JobWiring.openSource(spec, columns: nil, connections: connections)
        let described = try await opened.reader.describe()
        let requested = spec.columns ?? described.columns.map(\.name)
        let known = Set(described.columns.map { $0.name.lowercased() })
        var problems = (requested + spec.key).filter { !known.contains($0.lowercased()) }.map {
            loaded.problem("columns", "the source has no column '\($0)' to create the target's from")
        }
        if problems.isEmpty, let missing = spec.key.first(where: { key in !requested.contains { $0.lowercased() == key.lowercased() } }) {
            problems.append(loaded.problem("columns", "columns must include the key column '\(missing)'"))
        }
        if !problems.isEmpty { throw SpecProblems(problems) }
        // The source's spelling of every name, the key's included.
        let spelled = Dictionary(described.columns.map { ($0.name.lowercased(), $0.name) }, uniquingKeysWith: { first, _ in first })
        let columns = requested.map { spelled[$0.lowercased()] ?? $0 }
        let key = spec.key.map { spelled[$0.lowercased()] ?? $0 }
        try await checkBeforeCreating(loaded, source: opened, columns: columns, connections: connections)
        let target = spec.target.kind
        let designed: [TargetDesign.Column]
        var origin: String
        switch opened {
        case .postgres where target == .postgres:
            let design = try await PostgresTargetTable.design(
                copying: spec.source.table ?? "", in: try await connections.database(spec.source.location), columns: columns, key: key,
                as: table)
            return (design, try await estimatedRows(opened))
        case .postgres:
            designed = try await PostgresTargetTable.sqliteColumns(
                of: spec.source.table ?? "", in: try await connections.database(spec.source.location), columns: columns)
            origin = "PostgreSQL types mapped to SQLite's"
        case .sqlite:
            let copied = try SQLiteTargetTable.columns(
                path: spec.resolve(path: spec.source.location), table: spec.source.table ?? "", columns: columns)
            designed = target == .sqlite
                ? copied : copied.map { TargetDesign.Column(name: $0.name, type: TargetTypeMapping.postgres(fromSQLite: $0.type), notNull: $0.notNull) }
            origin = target == .sqlite ? "declared types copied from the source" : "SQLite types mapped to PostgreSQL's"
        case .mysql:
            throw SpecProblems([loaded.problem("target.create", "a target cannot be created from a MySQL source yet; create the table first")])
        case .csv, .jsonl:
            let (samplers, whole) = try await sample(spec, columns: columns, connections: connections)
            designed = zip(columns, samplers).map { name, sampler in
                // Only a sample that is the whole file proves a column is never empty.
                TargetDesign.Column(
                    name: name, type: target == .sqlite ? sampler.sqliteType : sampler.postgresType, notNull: whole && !sampler.sawNull)
            }
            origin = whole ? "types inferred from every row of the file" : "types inferred from the first \(Output.number(sampleRows)) rows"
        }
        return (TargetDesign(engine: target, table: table, columns: designed, key: key, origin: origin), try await estimatedRows(opened))
    }

    /// What `prepare` would refuse on the source's side, checked before a table is created for a
    /// job that could not run: NULL or duplicate keys of a table source, and PostgreSQL types
    /// without a faithful form in SQLite.
    private static func checkBeforeCreating(
        _ loaded: LoadedSpec, source: OpenedSource, columns: [String], connections: Connections
    ) async throws {
        if case .postgres(let postgres) = source, loaded.spec.target.kind != .postgres {
            let info = try await postgres.tableInfo()
            let problems = columns.compactMap { column -> SpecProblem? in
                guard let type = info.type(of: column), !type.crossesEngines else { return nil }
                return loaded.problem(
                    "columns", "source column '\(column)' has type \(type.formatted), which has no faithful form in sqlite; cast it in a view or leave it out of columns")
            }
            if !problems.isEmpty { throw SpecProblems(problems) }
        }
        if source.table != nil {
            try await JobWiring.openSource(loaded.spec, columns: columns, connections: connections).reader.checkKey()
        }
    }

    private static func estimatedRows(_ source: OpenedSource) async throws -> Int {
        try await source.reader.plan(workers: 1).reduce(0) { $0 + $1.estimatedRows }
    }

    /// Each column's sampler over the export's first rows, and whether they were all of its rows.
    private static func sample(_ spec: JobSpec, columns: [String], connections: Connections) async throws -> ([ColumnSampler], Bool) {
        let source = try await JobWiring.openSource(spec, columns: columns, connections: connections).reader
        var samplers = Array(repeating: ColumnSampler(), count: columns.count)
        guard let chunk = try await source.plan(workers: 1).first else { return (samplers, true) }
        let batch = try await source.read(chunk: chunk.range, after: nil, limit: sampleRows)
        for row in batch.rows {
            for (index, value) in row.enumerated() where index < samplers.count { samplers[index].observe(value) }
        }
        return (samplers, batch.isLast)
    }

    /// What `plan --json` and `run --dry-run --json` print for a table still to be created.
    struct Preview: Encodable {
        var dryRun: Bool
        /// The statement `run` will execute.
        var createTable: String
        var estimatedRows: Int
        /// The source's chunks (`plan`); `nil` elsewhere.
        var chunks: [ChunkPlan]?

        init(_ table: TableToCreate, dryRun: Bool) {
            self.dryRun = dryRun
            createTable = table.design.sql
            estimatedRows = table.sourceRows
        }
    }

    /// The text `validate`, `plan` and a dry run print for a table still to be created.
    static func preview(_ table: TableToCreate) -> String {
        """
        the target table \(table.design.table) does not exist; `backfill run` creates it (\(table.design.origin)):
        \(table.design.sql)
        and inserts every source row (about \(Output.number(table.sourceRows)))
        """
    }
}
