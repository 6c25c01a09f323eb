import Foundation

extension Endpoint {
    /// Whether `other` names the same table of the same database: a job whose target is its own
    /// source would read and write one table and fight its own locks (refused by `validate`).
    ///
    /// SQLite files are the same when their resolved paths (symbolic links followed) are; PostgreSQL
    /// and MySQL DSNs when host, port and database are (user, password and options do not change the server).
    /// A PostgreSQL table name without a schema is the same as the same name in `public` (a SQLite
    /// table's `main.` prefix is dropped when the spec is read).
    func isSameTable(as other: Endpoint, resolving resolve: (String) -> String) -> Bool {
        guard kind == other.kind, let table, let otherTable = other.table,
            Self.unqualified(table, kind: kind) == Self.unqualified(otherTable, kind: kind)
        else { return false }
        switch kind {
        case .sqlite:
            let paths = [location, other.location].map { URL(fileURLWithPath: resolve($0)).resolvingSymlinksInPath().path }
            return paths[0] == paths[1]
        case .postgres, .mysql:
            let port = kind == .postgres ? 5432 : 3306
            guard let a = Self.server(of: location, defaultPort: port), let b = Self.server(of: other.location, defaultPort: port) else {
                return location == other.location
            }
            return a == b
        default:
            return false
        }
    }

    /// `public.orders` → `orders` (PostgreSQL).
    private static func unqualified(_ table: String, kind: Kind) -> String {
        kind == .postgres && table.hasPrefix("public.") ? String(table.dropFirst("public.".count)) : table
    }

    /// Host, port and database of a `postgres://` or `mysql://` DSN.
    private static func server(of dsn: String, defaultPort: Int) -> [String]? {
        guard let url = URLComponents(string: dsn), let host = url.host, !host.isEmpty else { return nil }
        let loopback = ["localhost", "127.0.0.1", "::1", "[::1]"]
        let normalizedHost = loopback.contains(host.lowercased()) ? "loopback" : host.lowercased()
        let database = url.path.split(separator: "/").first.map(String.init) ?? (url.user ?? "postgres")
        return [normalizedHost, String(url.port ?? defaultPort), database]
    }
}
