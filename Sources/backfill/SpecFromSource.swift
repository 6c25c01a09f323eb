import BackfillCore
import BackfillFiles
import BackfillPostgres
import BackfillSQLite
import Foundation

/// `backfill init --from SOURCE [--to TARGET] [--table T]`: a spec written from a real table or
/// file — its key from the primary key (or `--key`), its columns, a `newer-wins` candidate, a batch
/// size from the rows' width, and `create: true` when the target table does not exist yet.
struct SpecFromSource {
    var from: String
    var to: String?
    var table: String?
    var key: [String]?
    /// Where the spec is written: its paths are relative to its folder.
    var specPath: String

    /// Columns whose name says they hold a row's version, best first.
    static let versionNames = [
        "updated_at", "updatedat", "modified_at", "last_modified", "last_updated", "updated", "modified", "row_version",
        "lock_version", "version",
    ]

    /// About this many bytes of row values per batch.
    static let batchBytes = 2_000_000

    /// The endpoint a command-line location names: a `postgres://` DSN, a `.csv` or `.jsonl` file
    /// (plain, `.gz` or `.zst`) or a directory or glob of them, or else a SQLite file.
    static func endpoint(_ location: String, table: String?) -> Endpoint {
        let lower = location.lowercased()
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") { return Endpoint(kind: .postgres, location: location, table: table) }
        let first = ((try? ExportParts.resolve(location, format: "export")) ?? [location])[0]
        switch URL(fileURLWithPath: ExportParts.uncompressedName(first)).pathExtension.lowercased() {
        case "csv": return Endpoint(kind: .csv, location: location)
        case "jsonl", "ndjson": return Endpoint(kind: .jsonl, location: location)
        default: return Endpoint(kind: .sqlite, location: location, table: table)
        }
    }


    /// The spec's text.
    /// - Throws: `BackfillError` `.invalidInput` when the source cannot be read, names no table
    ///   where it must, or has no key to use.
    func write() async throws -> (text: String, summary: String) {
        var source = Self.endpoint(from, table: table)
        if source.kind == .sqlite, source.table == nil { source.table = try soleTable(source.location) }
        if source.kind == .postgres, source.table == nil {
            throw BackfillError(.invalidInput, "name the table to read with --table", location: Redaction.redact(from))
        }
        let name = source.table ?? URL(fileURLWithPath: ExportParts.uncompressedName(source.location)).deletingPathExtension().lastPathComponent
        // A PostgreSQL table may be `schema.table`; the target takes the table's own name.
        // For an export, --table names the table it fills.
        let isExport = source.kind == .csv || source.kind == .jsonl
        let ownName = source.kind == .postgres ? (name.split(separator: ".").last.map(String.init) ?? name) : name
        let targetTable = isExport ? (table ?? ownName) : ownName
        if let to, case let kind = Self.endpoint(to, table: nil).kind, kind == .csv || kind == .jsonl {
            throw BackfillError(.invalidInput, "--to names a SQLite file or a postgres:// DSN, not a \(kind.rawValue) file", location: to)
        }
        let loaded = try SpecLoader.parse(
            yaml: Self.yaml(name: Self.jobName(name), source: source, target: Endpoint(kind: .sqlite, location: "unused.db", table: targetTable), key: ["unused"]),
            file: "--from", baseDirectory: FileManager.default.currentDirectoryPath, environment: ProcessInfo.processInfo.environment)
        return try await Connections.using(loaded.spec) { connections in
            try await write(source: source, name: name, targetTable: targetTable, loaded: loaded, connections: connections)
        }
    }

    private func write(
        source: Endpoint, name: String, targetTable: String, loaded: LoadedSpec, connections: Connections
    ) async throws -> (text: String, summary: String) {
        let opened = try await JobWiring.openSource(loaded.spec, columns: nil, connections: connections)
        let described = try await opened.reader.describe()
        let columns = described.columns.map(\.name)
        let key = try self.key ?? described.uniqueKeys.first ?? columns.first { $0.lowercased() == "id" }.map { [$0] } ?? {
            throw BackfillError(
                .invalidInput, "the source has no primary key or id column: name the key with --key COLUMN[,COLUMN]",
                location: Redaction.redact(from))
        }()
        if let unknown = key.first(where: { name in !columns.contains { $0.lowercased() == name.lowercased() } }) {
            throw BackfillError(.invalidInput, "the source has no column '\(unknown)' for --key", location: Redaction.redact(from))
        }
        let version = Self.versionNames.lazy.compactMap { wanted in columns.first { $0.lowercased() == wanted } }.first
        // Read again with the key found: a table source plans its chunks on it.
        let keyed = try SpecLoader.parse(
            yaml: Self.yaml(name: Self.jobName(name), source: source, target: Endpoint(kind: .sqlite, location: "unused.db", table: targetTable), key: key),
            file: "--from", baseDirectory: FileManager.default.currentDirectoryPath, environment: ProcessInfo.processInfo.environment)
        let batch = try await batchSize(columns: columns, connections: connections, loaded: keyed)
        var target = to.map { Self.endpoint($0, table: targetTable) } ?? Endpoint(kind: .sqlite, location: "\(targetTable).db", table: targetTable)
        var targetSpec = loaded.spec
        targetSpec.target = target
        let exists = try await targetExists(targetSpec, connections: connections)
        target.create = !exists
        let text = Self.yaml(
            name: Self.jobName(name), source: relocated(source), target: relocated(target), key: key, columns: columns, version: version,
            batch: batch, targetNamed: to != nil, writing: true)
        let summary = "key \(key.joined(separator: ", "))\(version.map { " · newer-wins \($0)" } ?? "") · batch \(batch)\(target.create ? " · the target table is created by the first run" : "")"
        return (text, summary)
    }

    /// A file location as the spec names it: relative to the spec's folder — the path as given when
    /// the spec is written into the current folder, else the absolute path.
    private func relocated(_ endpoint: Endpoint) -> Endpoint {
        guard endpoint.kind != .postgres else { return endpoint }
        let current = FileManager.default.currentDirectoryPath
        let specFolder = URL(fileURLWithPath: specPath).deletingLastPathComponent().standardizedFileURL.path
        guard specFolder != URL(fileURLWithPath: current).standardizedFileURL.path else { return endpoint }
        var moved = endpoint
        moved.location = URL(fileURLWithPath: endpoint.location).standardizedFileURL.path
        return moved
    }

    /// The one table of a SQLite file.
    private func soleTable(_ path: String) throws -> String {
        let tables = try SQLiteTargetTable.tables(path: path)
        guard tables.count == 1, let only = tables.first else {
            throw BackfillError(
                .invalidInput, tables.isEmpty ? "the database has no tables" : "name the table to read with --table (it has: \(tables.prefix(12).joined(separator: ", ")))",
                location: path)
        }
        return only
    }

    /// Rows per batch for about `batchBytes` of values, from the first 200 rows' width.
    private func batchSize(columns: [String], connections: Connections, loaded: LoadedSpec) async throws -> Int {
        let reader = try await JobWiring.openSource(loaded.spec, columns: columns, connections: connections).reader
        guard let chunk = try await reader.plan(workers: 1).first else { return 1_000 }
        let rows = try await reader.read(chunk: chunk.range, after: nil, limit: 200).rows
        guard !rows.isEmpty else { return 1_000 }
        let bytes = rows.reduce(0) { total, row in
            total + row.reduce(0) { sum, value in
                switch value {
                case .null: sum + 1
                case .integer, .real: sum + 8
                case .text(let text): sum + text.utf8.count
                case .blob(let bytes): sum + bytes.count
                }
            }
        }
        let perRow = max(1, bytes / rows.count)
        return min(20_000, max(500, Self.batchBytes / perRow / 500 * 500))
    }

    private func targetExists(_ spec: JobSpec, connections: Connections) async throws -> Bool {
        guard let table = spec.target.table else { return true }
        switch spec.target.kind {
        case .sqlite: return try SQLiteTargetTable.exists(path: spec.resolve(path: spec.target.location), table: table)
        default: return try await PostgresTargetTable.exists(table, in: try await connections.database(spec.target.location))
        }
    }

    /// A job name from a table or file name: letters, digits, `-`, `_` and `.`.
    static func jobName(_ name: String) -> String {
        let cleaned = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" })
        return cleaned.isEmpty ? "backfill" : cleaned
    }

    /// A DSN without its password (in the user part or a `password=` parameter): the spec keeps no
    /// secret, and the connection takes `PGPASSWORD`'s, as libpq does.
    static func withoutPassword(_ location: String) -> String {
        guard var components = URLComponents(string: location) else { return location }
        components.password = nil
        if let items = components.queryItems {
            let kept = items.filter { $0.name != "password" }
            components.queryItems = kept.isEmpty ? nil : kept
        }
        return components.string ?? location
    }

    /// `{ kind: "location", table: "t" }`; without a DSN's password when `writing`.
    static func flow(_ endpoint: Endpoint, writing: Bool) -> String {
        let location = writing && endpoint.kind == .postgres ? withoutPassword(endpoint.location) : endpoint.location
        var parts = ["\(endpoint.kind.rawValue): \(quoted(location))"]
        if let table = endpoint.table { parts.append("table: \(quoted(table))") }
        if endpoint.create { parts.append("create: true") }
        return "{ " + parts.joined(separator: ", ") + " }"
    }

    /// A YAML double-quoted scalar.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func yaml(
        name: String, source: Endpoint, target: Endpoint, key: [String], columns: [String]? = nil, version: String? = nil,
        batch: Int = 1_000, targetNamed: Bool = true, writing: Bool = false
    ) -> String {
        let list = { (names: [String]) in "[" + names.map(quoted).joined(separator: ", ") + "]" }
        var lines = [
            "# Written by `backfill init --from`. Reference: README.md, \"Spec reference\".",
            "name: \(name)",
            "",
            "# The source of truth.",
            "source: \(flow(source, writing: writing))",
        ]
        lines.append(targetNamed
            ? (target.create ? "# The target; its table does not exist yet: the first run creates it from the source." : "# The target.")
            : "# The target: change it to the table to repair (a SQLite file or a postgres:// DSN, with table:).")
        lines.append("target: \(flow(target, writing: writing))")
        lines += ["", "# The stable key rows are matched on (the source's primary key).", "key: \(list(key))"]
        if let columns { lines += ["# Columns to copy (leave out to copy every column both sides share).", "columns: \(list(columns))"] }
        lines += ["", "mode: upsert"]
        if let version {
            lines += ["# A version column: a target row whose \(version) is newer is never overwritten (live traffic wins).", "conflict: { newer-wins: \(quoted(version)) }"]
        } else {
            lines.append("# conflict: { newer-wins: updated_at }   # no updated_at/version-like column found")
        }
        lines += [
            "", "# About 2 MB of values per batch, from the width of the source's rows.", "batch: { size: \(batch) }", "workers: 2",
            "# limits: { rows-per-second: 5000, max-error-rate: 0.05 }", "",
        ]
        return lines.joined(separator: "\n")
    }
}
