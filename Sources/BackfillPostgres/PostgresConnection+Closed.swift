import Logging
import PostgresNIO

/// The server had closed the connection before the statement was sent.
struct ServerClosedConnection: Error {}

extension PostgresConnection {
    /// `query(_:logger:)`, refused at once when the server has already closed the connection.
    ///
    /// postgres-nio 1.33.2 writes a statement to a closed channel without ever failing it, so the
    /// call would wait out the client's whole deadline (connect timeout + statement timeout + 5 s:
    /// 95 s by default). That happens when the server ends a session between two statements of a
    /// transaction: the idle-in-transaction timeout after a stall, an administrator's
    /// `pg_terminate_backend`, a restart.
    @discardableResult
    func checkedQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        guard !isClosed else { throw ServerClosedConnection() }
        return try await self.query(query, logger: logger)
    }

    /// `copyFrom(table:columns:logger:writeData:)`, refused at once on a closed connection (see
    /// `checkedQuery(_:logger:)`).
    func checkedCopyFrom(
        table: String, columns: [String] = [], logger: Logger, writeData: (PostgresCopyFromWriter) async throws -> Void
    ) async throws {
        guard !isClosed else { throw ServerClosedConnection() }
        try await copyFrom(table: table, columns: columns, logger: logger, writeData: writeData)
    }
}
