/// A target table `backfill` creates when it does not exist (`target: { create: true }`, `run
/// --create-target`): the job's columns with their types in the target's engine, their
/// nullability, safe defaults, and the job's key as its primary key.
public struct TargetDesign: Sendable, Codable, Hashable {
    public struct Column: Sendable, Codable, Hashable {
        public var name: String
        /// The type in the target's SQL (`numeric(12,2)`, `TEXT`, …).
        public var type: String
        public var notNull: Bool
        /// A default expression kept from a PostgreSQL source (never one that reads a sequence).
        public var defaultExpression: String?

        public init(name: String, type: String, notNull: Bool, defaultExpression: String? = nil) {
            self.name = name
            self.type = type
            self.notNull = notNull
            self.defaultExpression = defaultExpression
        }
    }

    /// `.sqlite` or `.postgres`.
    public var engine: Endpoint.Kind
    public var table: String
    public var columns: [Column]
    public var key: [String]
    /// How the types were chosen, for `plan` and the run's output (`copied from the source`, …).
    public var origin: String

    public init(engine: Endpoint.Kind, table: String, columns: [Column], key: [String], origin: String) {
        self.engine = engine
        self.table = table
        self.key = key
        self.origin = origin
        let keys = Set(key.map { $0.lowercased() })
        // Key columns are never NULL.
        self.columns = columns.map { column in
            var column = column
            if keys.contains(column.name.lowercased()) { column.notNull = true }
            return column
        }
    }

    /// The `CREATE TABLE` statement, identifiers quoted.
    public var sql: String { statement(ifNotExists: false) }

    /// The statement `backfill` runs: `IF NOT EXISTS`, so that two workers starting at once do not
    /// collide (the loser then checks the winner's table like any existing one).
    public var creatingSQL: String { statement(ifNotExists: true) }

    private func statement(ifNotExists: Bool) -> String {
        let definitions = columns.map { column in
            var definition = "\(Identifier.quoted(column.name)) \(column.type)"
            if column.notNull { definition += " NOT NULL" }
            if let expression = column.defaultExpression { definition += " DEFAULT \(expression)" }
            return definition
        }
        let primaryKey = "PRIMARY KEY (\(key.map(Identifier.quoted).joined(separator: ", ")))"
        return "CREATE TABLE \(ifNotExists ? "IF NOT EXISTS " : "")\(Identifier.quoted(table)) (\n  " + (definitions + [primaryKey]).joined(separator: ",\n  ") + "\n)"
    }
}

/// The types a created target gets, engine to engine: the pairs the type matrix tests
/// (`TypeMatrixTests`), so that every value crosses exactly.
public enum TargetTypeMapping {
    /// A SQLite column's declared type → PostgreSQL: by SQLite's affinity, with the common names
    /// SQLite stores as text (dates and times) kept as text, booleans as `boolean`, and other
    /// NUMERIC-affinity types (`DECIMAL(p,s)` included: SQLite never enforced it) as `numeric`.
    public static func postgres(fromSQLite declared: String) -> String {
        let upper = declared.uppercased()
        if upper.contains("BOOL") { return "boolean" }
        switch ColumnAffinity(declaredType: declared) {
        case .integer: return "bigint"
        case .real: return "double precision"
        case .text: return "text"
        case .blob: return upper.contains("BLOB") ? "bytea" : "text"
        default:
            // SQLite never enforced a NUMERIC(p,s)'s precision: its values may not fit one.
            if upper.contains("DATE") || upper.contains("TIME") { return "text" }
            return "numeric"
        }
    }

    /// A PostgreSQL column's type (`name`: `pg_type.typname`; `formatted`: `format_type`) → SQLite:
    /// integers as INTEGER, floats as REAL, `numeric(p,s)` as NUMERIC (at most 15 digits survive
    /// a REAL), an unconstrained `numeric` as TEXT, `boolean` as BOOLEAN, `bytea` as BLOB, the rest
    /// (timestamps, uuids, json, text, …) as TEXT in PostgreSQL's text form.
    public static func sqlite(fromPostgres name: String, formatted: String) -> String {
        switch name {
        case "int2", "int4", "int8", "oid": return "INTEGER"
        case "float4", "float8": return "REAL"
        case "numeric":
            if let precision = Int(formatted.drop { $0 != "(" }.dropFirst().prefix { $0.isNumber }), precision <= 15 { return "NUMERIC" }
            return "TEXT"
        case "bool": return "BOOLEAN"
        case "bytea": return "BLOB"
        default: return "TEXT"
        }
    }
}
