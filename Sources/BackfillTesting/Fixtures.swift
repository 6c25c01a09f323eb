import Foundation
import GRDB

/// Real SQLite files for tests and benchmarks: a source table, a damaged copy, and row dumps.
public enum Fixtures {
    /// A fresh temporary folder.
    public static func temporaryDirectory(_ name: String = "backfill-test") throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// Creates table `items` with `rows` rows keyed as `kind` at `path` (replacing the file).
    ///
    /// Columns: the key, `name TEXT`, `amount INTEGER`, `price REAL`, `note TEXT` (10% NULL) and
    /// `updated_at TEXT` (a version column in ISO 8601).
    public static func makeSource(path: String, kind: KeyKind, rows: Int) throws {
        try? FileManager.default.removeItem(atPath: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: createTable(kind: kind, name: "items"))
            let key: String = switch kind {
            case .integer: "i"
            case .text: "printf('k-%08x-%04d', (i * 2654435761) % 4294967296, i % 9973)"
            case .composite: "i % 7, i"
            }
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    INSERT INTO items
                    SELECT \(key), 'name ' || i, (i * 37) % 1000, i * 0.25,
                           CASE WHEN i % 10 = 0 THEN NULL ELSE 'note ' || i END,
                           strftime('%Y-%m-%dT%H:%M:%SZ', 1761955200 + i, 'unixepoch')
                    FROM n
                    """,
                arguments: [rows])
        }
        try queue.close()
    }

    /// The `CREATE TABLE` statement of the fixture table.
    public static func createTable(kind: KeyKind, name: String) -> String {
        let columns = "name TEXT NOT NULL, amount INTEGER, price REAL, note TEXT, updated_at TEXT NOT NULL"
        switch kind {
        case .integer: return "CREATE TABLE \(name) (id INTEGER PRIMARY KEY, \(columns))"
        case .text: return "CREATE TABLE \(name) (id TEXT PRIMARY KEY, \(columns))"
        case .composite: return "CREATE TABLE \(name) (tenant INTEGER NOT NULL, id INTEGER NOT NULL, \(columns), PRIMARY KEY (tenant, id))"
        }
    }

    /// Copies `source` to `target` and damages the copy: the rows between the 30% and 40% of the
    /// key order are missing, every 53rd row is lost and every 29th is stale (older version, other amount).
    /// - Returns: how many rows differ from the source.
    @discardableResult
    public static func makeDamagedCopy(of source: String, at target: String) throws -> Int {
        try? FileManager.default.removeItem(atPath: target)
        let queue = try DatabaseQueue(path: source)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [target]) }
        try queue.close()
        let copy = try DatabaseQueue(path: target)
        let damaged = try copy.write { db -> Int in
            try db.execute(sql: """
                CREATE TEMP TABLE ordered AS SELECT rowid AS r, row_number() OVER (ORDER BY \(keyOrder(db))) AS n FROM items
                """)
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM items") ?? 0
            try db.execute(
                sql: "DELETE FROM items WHERE rowid IN (SELECT r FROM ordered WHERE n > ? AND n <= ? OR n % 53 = 0)",
                arguments: [total * 3 / 10, total * 4 / 10])
            var changed = db.changesCount
            try db.execute(sql: """
                UPDATE items SET amount = amount + 1, updated_at = '2020-01-01T00:00:00Z'
                WHERE rowid IN (SELECT r FROM ordered WHERE n % 29 = 0)
                """)
            changed += db.changesCount
            return changed
        }
        try copy.close()
        return damaged
    }

    private static func keyOrder(_ db: Database) throws -> String {
        let hasTenant = try db.columns(in: "items").contains { $0.name == "tenant" }
        return hasTenant ? "tenant, id" : "id"
    }

    /// Every row of `table` ordered by `orderBy`, as text, for exact comparisons.
    public static func dump(path: String, table: String = "items", orderBy: String = "1") throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(orderBy)")
            return rows.map { row in row.databaseValues.map { "\($0.storage)" }.joined(separator: "|") }
        }
    }

    /// Runs statements on a database file, waiting while a running backfill holds it.
    public static func execute(path: String, _ sql: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        try queue.write { db in try db.execute(sql: sql) }
    }

    /// A single integer from a query (read-only; waits for a busy database).
    public static func integer(path: String, _ sql: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    /// A single text value from a query (read-only).
    public static func text(path: String, _ sql: String) throws -> String? {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in try String.fetchOne(db, sql: sql) }
    }

    /// A trigger-backed write counter on `table`: `SELECT n FROM write_count` counts rows inserted or updated.
    public static func installWriteCounter(path: String, table: String = "items") throws {
        try execute(path: path, """
            CREATE TABLE write_count (n INTEGER NOT NULL);
            INSERT INTO write_count VALUES (0);
            CREATE TRIGGER count_inserts AFTER INSERT ON \(table) BEGIN UPDATE write_count SET n = n + 1; END;
            CREATE TRIGGER count_updates AFTER UPDATE ON \(table) BEGIN UPDATE write_count SET n = n + 1; END;
            """)
    }

    /// The spec YAML of a SQLite → SQLite job over the fixture tables.
    public static func spec(kind: KeyKind, name: String = "items", mode: String = "upsert", extra: String = "") -> String {
        """
        name: \(name)
        source: { sqlite: source.db, table: items }
        target: { sqlite: target.db, table: items }
        key: \(kind.specKey)
        mode: \(mode)
        conflict: { newer-wins: updated_at }
        batch: { size: 500 }
        workers: 2
        \(extra)
        """
    }
}

extension Fixtures {
    /// Writes table `items` of a fixture database as a CSV export (header row, RFC 4180 quoting,
    /// NULL as an empty unquoted field) and returns its lines count.
    @discardableResult
    public static func exportCSV(from path: String, to csvPath: String) throws -> Int {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        var text = ""
        try queue.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM items")
            var wroteHeader = false
            while let row = try rows.next() {
                if !wroteHeader {
                    text += row.columnNames.joined(separator: ",") + "\r\n"
                    wroteHeader = true
                }
                text += row.databaseValues.map(csvField).joined(separator: ",") + "\r\n"
            }
        }
        try text.write(toFile: csvPath, atomically: true, encoding: .utf8)
        return text.split(separator: "\r\n").count
    }

    private static func csvField(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return ""
        case .int64(let v): return String(v)
        case .double(let v): return String(v)
        case .string(let v): return "\"" + String(String.UnicodeScalarView(v.unicodeScalars.flatMap { $0 == "\"" ? ["\"", "\""] : [$0] })) + "\""
        case .blob(let v): return v.base64EncodedString()
        }
    }

    /// Writes table `items` as JSONL, one object per line.
    public static func exportJSONL(from path: String, to jsonlPath: String) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        var lines: [String] = []
        try queue.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM items")
            while let row = try rows.next() {
                var object: [String: Any] = [:]
                for (column, value) in zip(row.columnNames, row.databaseValues) {
                    switch value.storage {
                    case .null: object[column] = NSNull()
                    case .int64(let v): object[column] = v
                    case .double(let v): object[column] = v
                    case .string(let v): object[column] = v
                    case .blob(let v): object[column] = v.base64EncodedString()
                    }
                }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                lines.append(String(decoding: data, as: UTF8.self))
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: jsonlPath, atomically: true, encoding: .utf8)
    }
}
