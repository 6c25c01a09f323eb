import BackfillCore
import PostgresNIO

/// A PostgreSQL target table `backfill` creates (`target: { create: true }`): whether it exists,
/// its design copied from a PostgreSQL source table, and its creation.
public enum PostgresTargetTable {
    /// Whether `table` (`name` or `schema.name`) exists.
    public static func exists(_ table: String, in database: PostgresDatabase) async throws -> Bool {
        try await database.textRows(
            "SELECT (to_regclass(\(Identifier.quoted(table))) IS NOT NULL)::text", "looking for table \(table)"
        ).first?[0] == "true"
    }

    /// The design of a copy of `source` (read from `database`) named `table`, with `columns`:
    /// the source's exact types (`format_type`), nullability and defaults — except a default that
    /// reads a sequence, which belongs to the source's database.
    public static func design(
        copying source: String, in database: PostgresDatabase, columns: [String], key: [String], as table: String
    ) async throws -> TargetDesign {
        let info = try await PostgresCatalog.describe(source, in: database)
        let defaults = try await database.textRows(
            """
            SELECT a.attname, pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
            WHERE d.adrelid = to_regclass(\(Identifier.quoted(source))) AND a.attgenerated = ''
            """, "reading the source's column defaults")
        let safe = Dictionary(
            defaults.compactMap { row -> (String, String)? in
                guard let name = row[0] ?? nil, let expression = row[1] ?? nil, !expression.contains("nextval(") else { return nil }
                return (name.lowercased(), expression)
            }, uniquingKeysWith: { first, _ in first })
        let described = Dictionary(info.description.columns.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        let designed = columns.map { name in
            TargetDesign.Column(
                name: name, type: info.type(of: name)?.formatted ?? "text", notNull: described[name.lowercased()]?.notNull ?? false,
                defaultExpression: safe[name.lowercased()])
        }
        return TargetDesign(engine: .postgres, table: table, columns: designed, key: key, origin: "types, nullability and defaults copied from the source")
    }

    /// The types of `source`'s `columns` as SQLite declares them (`TargetTypeMapping.sqlite`), and
    /// their nullability.
    public static func sqliteColumns(of source: String, in database: PostgresDatabase, columns: [String]) async throws -> [TargetDesign.Column] {
        let info = try await PostgresCatalog.describe(source, in: database)
        let described = Dictionary(info.description.columns.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        return columns.map { name in
            let type = info.type(of: name)
            return TargetDesign.Column(
                name: name, type: TargetTypeMapping.sqlite(fromPostgres: type?.name ?? "text", formatted: type?.formatted ?? "text"),
                notNull: described[name.lowercased()]?.notNull ?? false)
        }
    }

    /// Creates the table `design` describes, in one transaction.
    /// - Throws: `BackfillError` `.invalidInput` when PostgreSQL refuses the statement (a type
    ///   unknown in this database, a table created meanwhile).
    public static func create(_ design: TargetDesign, in database: PostgresDatabase) async throws {
        let sql = design.creatingSQL
        do {
            try await database.transaction("creating the target table") { connection in
                try await connection.checkedQuery(PostgresQuery(unsafeSQL: sql), logger: database.logger)
            }
        } catch let error as BackfillError {
            // Another worker's identical CREATE won the race (a unique violation in the catalog).
            if try await exists(design.table, in: database) { return }
            throw BackfillError(.invalidInput, "creating table \(design.table): \(error.message)", location: database.dsn.description)
        }
    }
}
