import BackfillCore
import PostgresNIO

/// Maps postgres-nio errors onto `BackfillError`: which failures are worth retrying, which are a
/// bad row, and which stop the run. Messages carry the server's message and SQLSTATE, never the
/// `DETAIL` (it can hold row values) nor the SQL text.
enum PostgresErrors {
    static func map(_ error: any Error, _ what: String, location: String) -> BackfillError {
        if let error = error as? BackfillError { return error }
        if error is ServerClosedConnection {
            return BackfillError(.unavailable, kind: .transient, "\(what): the server closed the connection", location: location, underlying: error)
        }
        if error is CancellationError {
            return BackfillError(.unavailable, kind: .transient, "\(what): cancelled", location: location, underlying: error)
        }
        guard let error = error as? PSQLError else {
            return BackfillError(.unavailable, kind: .transient, "\(what) failed: \(type(of: error))", location: location, underlying: error)
        }
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else {
            // Lost, refused or closed connections, timeouts: the server may be restarting.
            return BackfillError(.unavailable, kind: .transient, "\(what): connection problem (\(error.code))", location: location, underlying: error)
        }
        let message = serverMessage(error)
        switch classify(sqlState: state) {
        case .transient:
            return BackfillError(.unavailable, kind: .transient, "\(what): \(message) [\(state)]", location: location, underlying: error)
        case .data:
            return BackfillError(.writeFailed, kind: .data, "\(what): \(message) [\(state)]", location: location, underlying: error)
        case .permanent:
            return BackfillError(.invalidInput, "\(what): \(message) [\(state)]", location: location, underlying: error)
        }
    }

    /// A deadlock or serialization failure: the statement's transaction was rolled back whole
    /// and may simply run again.
    static func isConflict(_ error: BackfillError) -> Bool {
        guard let underlying = error.underlying as? PSQLError, let state = underlying.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }

    /// How a SQLSTATE is treated: connection exceptions, serialization failures, deadlocks, lock,
    /// statement and idle-in-transaction timeouts and server shutdowns are transient; data exceptions and integrity
    /// violations (and a key twice in one batch) belong to a row; everything else (missing table or column, permission denied,
    /// syntax) stops the run.
    static func classify(sqlState state: String) -> BackfillError.Kind {
        let transientStates: Set<String> = ["25P03", "40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53300", "53400"]
        if state.hasPrefix("08") || transientStates.contains(state) { return .transient }
        if state.hasPrefix("21") || state.hasPrefix("22") || state.hasPrefix("23") { return .data }
        return .permanent
    }

    private static func serverMessage(_ error: PSQLError) -> String {
        var message = error.serverInfo?[.message] ?? "server error"
        // "invalid input syntax for type integer: "abc"": keep the type, drop the value.
        if let quote = message.range(of: ": \"") { message = String(message[..<quote.lowerBound]) }
        if let column = error.serverInfo?[.columnName] { message += " (column \(column))" }
        return message
    }
}
