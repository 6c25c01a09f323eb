import BackfillCore
import Foundation
import GRDB

/// Opens SQLite files for sources and targets and describes their tables.
enum SQLiteDatabase {
    /// Opens an existing database file; never creates one.
    /// - Throws: `BackfillError` `.invalidInput` naming the path when it is missing or not a database.
    static func open(path: String, readOnly: Bool) throws -> DatabaseQueue {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw BackfillError(.invalidInput, "cannot open SQLite database (does the file exist?)", location: path)
        }
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(5)
        configuration.label = readOnly ? "backfill.source" : "backfill.target"
        configuration.prepareDatabase { db in
            db.add(function: RowDigestAggregate.function)
            db.add(function: RowHashFunction.function)
        }
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
            return queue
        } catch {
            throw SQLiteErrors.map(error, "opening the database", location: path)
        }
    }

    /// The columns and unique keys of `table`.
    /// - Throws: `BackfillError` `.invalidInput` when the table does not exist.
    static func describe(_ db: Database, table: String, path: String) throws -> TableDescription {
        guard try db.tableExists(table) else {
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            let hint = tables.isEmpty ? "it has no tables" : "it has: \(tables.prefix(12).joined(separator: ", "))"
            throw BackfillError(.invalidInput, "no table '\(table)' in the database (\(hint))", location: path)
        }
        let columns = try db.columns(in: table).map {
            ColumnDescription(name: $0.name, declaredType: $0.type, notNull: $0.isNotNull, fit: .sqlite)
        }
        var unique: [[String]] = []
        let primaryKey = try db.primaryKey(table)
        if !primaryKey.isRowID || primaryKey.rowIDColumn != nil { unique.append(primaryKey.columns) }
        for index in try db.indexes(on: table) where index.isUnique {
            unique.append(index.columns)
        }
        return TableDescription(columns: columns, uniqueKeys: unique)
    }
}
