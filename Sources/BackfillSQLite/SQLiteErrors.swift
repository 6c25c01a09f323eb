import BackfillCore
import GRDB

/// Maps SQLite errors onto `BackfillError`, without SQL text or bound values in the message.
enum SQLiteErrors {
    static func map(_ error: any Error, _ what: String, location: String) -> BackfillError {
        if let error = error as? BackfillError { return error }
        guard let error = error as? DatabaseError else {
            return BackfillError(.unavailable, "\(what) failed", location: location, underlying: error)
        }
        let reason = error.message ?? "SQLite error \(error.resultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return BackfillError(.unavailable, kind: .transient, "\(what): database is busy (\(reason))", location: location, underlying: error)
        case .SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_TOOBIG:
            return BackfillError(.writeFailed, kind: .data, "\(what): \(reason)", location: location, underlying: error)
        case .SQLITE_ERROR, .SQLITE_CANTOPEN, .SQLITE_NOTADB, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return BackfillError(.invalidInput, "\(what): \(reason)", location: location, underlying: error)
        default:
            return BackfillError(.unavailable, "\(what): \(reason)", location: location, underlying: error)
        }
    }
}
