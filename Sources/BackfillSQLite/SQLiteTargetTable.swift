import BackfillCore
import Foundation
import GRDB

/// A SQLite target table `backfill` creates (`target: { create: true }`): whether it exists, the
/// declared types of a SQLite source's columns, and its creation (with the file, when missing).
public enum SQLiteTargetTable {
    /// Whether the file `path` holds `table` (a missing file holds none).
    public static func exists(path: String, table: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        let database = try SQLiteDatabase.open(path: path, readOnly: true)
        defer { try? database.close() }
        do {
            return try database.read { db in try db.tableExists(table) }
        } catch {
            throw SQLiteErrors.map(error, "looking for the target table", location: path)
        }
    }

    /// The tables of the SQLite file `path`, by name.
    public static func tables(path: String) throws -> [String] {
        let database = try SQLiteDatabase.open(path: path, readOnly: true)
        defer { try? database.close() }
        do {
            return try database.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            }
        } catch {
            throw SQLiteErrors.map(error, "listing the tables", location: path)
        }
    }

    /// `columns` of the SQLite table `table` in `path`: declared types as written, nullability.
    public static func columns(path: String, table: String, columns: [String]) throws -> [TargetDesign.Column] {
        let database = try SQLiteDatabase.open(path: path, readOnly: true)
        defer { try? database.close() }
        let described = try database.read { db in try SQLiteDatabase.describe(db, table: table, path: path) }
        let byName = Dictionary(described.columns.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        return columns.map { name in
            TargetDesign.Column(name: name, type: byName[name.lowercased()]?.declaredType ?? "", notNull: byName[name.lowercased()]?.notNull ?? false)
        }
    }

    /// Creates the table `design` describes in `path`, and the file when it does not exist.
    /// - Throws: `BackfillError` `.invalidInput` when SQLite refuses (a table created meanwhile).
    public static func create(_ design: TargetDesign, path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        do {
            let database = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? database.close() }
            try database.write { db in try db.execute(sql: design.creatingSQL) }
        } catch {
            throw SQLiteErrors.map(error, "creating table \(design.table)", location: path)
        }
    }
}
