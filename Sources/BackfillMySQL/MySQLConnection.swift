import BackfillCore

/// An error the server or the client library reported, with MySQL's error number.
struct MySQLServerError: Error, Sendable, CustomStringConvertible {
    /// `mysql_errno`: 1000–1999 and 3000+ from the server, 2000–2999 from the client library.
    var number: UInt32
    var sqlState: String
    var message: String

    var description: String { "MySQL error \(number) (\(sqlState)): \(message)" }

    /// The connection itself failed (lost, refused, timed out): it is not used again.
    var isConnectionError: Bool { (2000..<3000).contains(number) || number == 1927 || number == 4031 }

    /// The connection was lost (not refused or misconfigured): a connection that sat idle in the
    /// pool may have been closed by the server's `wait_timeout`.
    var isLostConnection: Bool { [2006, 2013, 2055, 4031].contains(number) }
}

/// One blocking connection of MariaDB's C library. Not thread-safe: `MySQLDatabase` hands it to
/// one call at a time, always on its thread pool, never on Swift concurrency's threads.
final class MySQLConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let library: MariaDBLibrary
    /// The longest statement the server takes (`max_allowed_packet`, less room for the protocol).
    private(set) var maxStatementBytes = 1 << 20

    /// Connects and sets the session up the way every `backfill` connection works: utf8mb4,
    /// UTC, strict SQL mode without backslash escapes (values are sent as hex literals anyway),
    /// READ COMMITTED (no gap locks held against live inserts), the DSN's lock-wait and statement
    /// timeouts. Blocking.
    /// - Throws: `MySQLServerError`.
    init(_ dsn: MySQLDSN, library: MariaDBLibrary) throws {
        guard let handle = library.initialize(nil) else {
            throw MySQLServerError(number: 2008, sqlState: "HY000", message: "out of memory creating a connection")
        }
        self.handle = handle
        self.library = library
        var connectTimeout = UInt32(dsn.connectTimeout)
        var ioTimeout = UInt32(max(600, dsn.statementTimeout + 60))
        var enforce: CChar = dsn.tls == .required || dsn.tls == .verifyIdentity ? 1 : 0
        var verify: CChar = dsn.tls == .verifyIdentity ? 1 : 0
        _ = library.options(handle, MariaDBLibrary.Option.connectTimeout.rawValue, &connectTimeout)
        _ = library.options(handle, MariaDBLibrary.Option.readTimeout.rawValue, &ioTimeout)
        _ = library.options(handle, MariaDBLibrary.Option.writeTimeout.rawValue, &ioTimeout)
        _ = "utf8mb4".withCString { library.options(handle, MariaDBLibrary.Option.setCharsetName.rawValue, $0) }
        // Both set for every mode: a library whose defaults differ (Connector/C 3.4 checks
        // certificates by default) still does what the DSN says.
        _ = library.options(handle, MariaDBLibrary.Option.sslEnforce.rawValue, &enforce)
        _ = library.options(handle, MariaDBLibrary.Option.sslVerifyServerCert.rawValue, &verify)
        // 127.0.0.1 rather than `localhost`, which the library takes for its Unix socket.
        let host = dsn.host == "localhost" ? "127.0.0.1" : dsn.host
        let connected = library.realConnect(handle, host, dsn.user, dsn.password, dsn.database, UInt32(dsn.port), nil, 0)
        // (A throwing initializer of a class still runs `deinit`, which closes the handle.)
        if connected == nil { throw lastError() }
        try execute(
            "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_BACKSLASH_ESCAPES', "
                + "time_zone = '+00:00', innodb_lock_wait_timeout = \(dsn.lockWaitTimeout)")
        try execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        if let packet: Int = MySQLTableInfo.number(try rows("SELECT @@max_allowed_packet").first?.first ?? nil) {
            maxStatementBytes = max(64 << 10, packet - 4096)
        }
        if dsn.statementTimeout > 0 {
            do {
                try execute("SET SESSION max_statement_time = \(dsn.statementTimeout)")  // MariaDB
            } catch let error as MySQLServerError where error.number == 1193 {
                try execute("SET SESSION max_execution_time = \(dsn.statementTimeout * 1000)")  // MySQL
            }
        }
    }

    deinit { library.close(handle) }

    private func lastError() -> MySQLServerError {
        MySQLServerError(
            number: library.errno(handle),
            sqlState: library.sqlstate(handle).map { String(cString: $0) } ?? "HY000",
            message: library.error(handle).map { String(cString: $0) } ?? "unknown error")
    }

    private func send(_ sql: String) throws {
        var sql = sql
        let failed = sql.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { library.realQuery(handle, $0.baseAddress, UInt($0.count)) != 0 }
        }
        if failed { throw lastError() }
    }

    /// Runs a statement that returns no rows; returns the rows it affected. Blocking.
    @discardableResult
    func execute(_ sql: String) throws -> UInt64 {
        try send(sql)
        if let result = library.storeResult(handle) { library.freeResult(result) }
        return library.affectedRows(handle)
    }

    /// Runs a statement and returns its rows, each cell its bytes in the text protocol (`nil` =
    /// NULL). Blocking.
    func rows(_ sql: String) throws -> [[[UInt8]?]] { try result(sql, named: false).rows }

    /// Runs a statement and returns its columns' names and its rows (for `SHOW` statements, whose
    /// columns differ between servers and versions). Blocking.
    func namedRows(_ sql: String) throws -> (names: [String], rows: [[[UInt8]?]]) { try result(sql, named: true) }

    private func result(_ sql: String, named: Bool) throws -> (names: [String], rows: [[[UInt8]?]]) {
        try send(sql)
        guard let result = library.storeResult(handle) else {
            if library.fieldCount(handle) == 0 { return ([], []) }
            throw lastError()
        }
        defer { library.freeResult(result) }
        let width = Int(library.numFields(result))
        var names: [String] = []
        if named {
            for column in 0..<width {
                // `MYSQL_FIELD` starts with `char *name`.
                let name = library.fetchFieldDirect(result, UInt32(column))?.load(as: UnsafePointer<CChar>?.self)
                names.append(name.map { String(cString: $0) } ?? "")
            }
        }
        var rows: [[[UInt8]?]] = []
        while let row = library.fetchRow(result) {
            guard let lengths = library.fetchLengths(result) else { break }
            var cells: [[UInt8]?] = []
            cells.reserveCapacity(width)
            for column in 0..<width {
                if let cell = row[column] {
                    cells.append(Array(UnsafeRawBufferPointer(start: cell, count: Int(lengths[column]))))
                } else {
                    cells.append(nil)
                }
            }
            rows.append(cells)
        }
        if library.errno(handle) != 0 { throw lastError() }
        return (names, rows)
    }

    /// `mysql_info` after the last statement (`Records: 3  Duplicates: 1  Warnings: 0`).
    var info: String? { library.info(handle).map { String(cString: $0) } }
}
