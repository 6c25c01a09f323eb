import BackfillCore

/// MariaDB's C client library (`libmariadb.so.3`, Debian's `libmariadb3`; it speaks to MySQL
/// servers too), loaded when the first `mysql:` endpoint is opened. Loading it at run time keeps
/// the build free of its headers, so `swift build` and `swift run backfill demo` work on a machine
/// without it; only a MySQL job needs the library.
///
/// Only the text protocol is used (every value arrives as bytes with a length, NULL as a null
/// pointer). One C struct is read, and only its first member: a result column's `MYSQL_FIELD`
/// begins with `char *name` in every Connector/C and libmysqlclient; the declarations below and
/// that pointer are all the ABI there is.
struct MariaDBLibrary: @unchecked Sendable {
    typealias Init = @convention(c) (OpaquePointer?) -> OpaquePointer?
    typealias Options = @convention(c) (OpaquePointer?, Int32, UnsafeRawPointer?) -> Int32
    typealias Connect = @convention(c) (
        OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UInt32,
        UnsafePointer<CChar>?, UInt
    ) -> OpaquePointer?
    typealias Query = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UInt) -> Int32
    typealias Handle = @convention(c) (OpaquePointer?) -> OpaquePointer?
    typealias Close = @convention(c) (OpaquePointer?) -> Void
    typealias Count = @convention(c) (OpaquePointer?) -> UInt32
    typealias FetchRow = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    typealias FetchLengths = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<UInt>?
    typealias Affected = @convention(c) (OpaquePointer?) -> UInt64
    typealias Text = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?
    typealias FetchField = @convention(c) (OpaquePointer?, UInt32) -> UnsafeRawPointer?
    typealias ServerInit = @convention(c) (Int32, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32

    /// `enum mysql_option` values used (mysql.h of Connector/C 3.x).
    enum Option: Int32 {
        case connectTimeout = 0
        case setCharsetName = 7
        case readTimeout = 11
        case writeTimeout = 12
        case sslVerifyServerCert = 21
        case sslEnforce = 38
    }

    let initialize: Init
    let options: Options
    let realConnect: Connect
    let realQuery: Query
    let storeResult: Handle
    let freeResult: Close
    let close: Close
    let numFields: Count
    let fieldCount: Count
    let fetchRow: FetchRow
    let fetchLengths: FetchLengths
    let affectedRows: Affected
    let errno: Count
    let error: Text
    let sqlstate: Text
    let info: Text
    let fetchFieldDirect: FetchField

    /// The library, or why it could not be loaded.
    static let shared: Result<MariaDBLibrary, BackfillError> = load()

    private static func load() -> Result<MariaDBLibrary, BackfillError> {
        let names = ["libmariadb.so.3", "libmariadb.so", "libmariadb.3.dylib", "/opt/homebrew/lib/mariadb/libmariadb.3.dylib"]
        guard let library = DynamicLibrary(firstOf: names) else {
            return .failure(
                BackfillError(
                    .invalidInput,
                    "a mysql: endpoint needs MariaDB's client library (Debian and Ubuntu: apt-get install libmariadb3), which is not installed"))
        }
        func symbol<T>(_ name: String, as type: T.Type) -> T? { library.symbol(name, as: type) }
        guard let initialize = symbol("mysql_init", as: Init.self),
            let options = symbol("mysql_options", as: Options.self),
            let connect = symbol("mysql_real_connect", as: Connect.self),
            let query = symbol("mysql_real_query", as: Query.self),
            let store = symbol("mysql_store_result", as: Handle.self),
            let free = symbol("mysql_free_result", as: Close.self),
            let close = symbol("mysql_close", as: Close.self),
            let numFields = symbol("mysql_num_fields", as: Count.self),
            let fieldCount = symbol("mysql_field_count", as: Count.self),
            let fetchRow = symbol("mysql_fetch_row", as: FetchRow.self),
            let fetchLengths = symbol("mysql_fetch_lengths", as: FetchLengths.self),
            let affected = symbol("mysql_affected_rows", as: Affected.self),
            let errno = symbol("mysql_errno", as: Count.self),
            let error = symbol("mysql_error", as: Text.self),
            let sqlstate = symbol("mysql_sqlstate", as: Text.self),
            let info = symbol("mysql_info", as: Text.self),
            let serverInit = symbol("mysql_server_init", as: ServerInit.self),
            let fetchField = symbol("mysql_fetch_field_direct", as: FetchField.self)
        else {
            return .failure(BackfillError(.invalidInput, "the installed MariaDB client library lacks the C API backfill uses; install libmariadb3 3.0 or later"))
        }
        // Not thread-safe on first use: done once here, before any connection is made.
        guard serverInit(0, nil, nil) == 0 else {
            return .failure(BackfillError(.invalidInput, "MariaDB's client library failed to initialise"))
        }
        return .success(
            MariaDBLibrary(
                initialize: initialize, options: options, realConnect: connect, realQuery: query, storeResult: store,
                freeResult: free, close: close, numFields: numFields, fieldCount: fieldCount, fetchRow: fetchRow,
                fetchLengths: fetchLengths, affectedRows: affected, errno: errno, error: error, sqlstate: sqlstate, info: info,
                fetchFieldDirect: fetchField))
    }
}
