import BackfillCore
import Foundation

/// Maps MySQL errors onto `BackfillError`: which failures are worth retrying (deadlock, lock wait
/// timeout, a lost or refused connection, a server shutting down), which belong to a row (a value
/// the column refuses, a constraint), and which stop the run (missing table, permission denied,
/// syntax). Messages carry the server's error number and message without the values it quotes.
enum MySQLErrors {
    static func map(_ error: any Error, _ what: String, location: String) -> BackfillError {
        if let error = error as? BackfillError { return error }
        if error is CancellationError {
            return BackfillError(.unavailable, kind: .transient, "\(what): cancelled", location: location, underlying: error)
        }
        guard let error = error as? MySQLServerError else {
            return BackfillError(.unavailable, kind: .transient, "\(what) failed: \(type(of: error))", location: location, underlying: error)
        }
        let message = "\(what): \(withoutValues(error.message)) [MySQL \(error.number)]"
        switch classify(error.number) {
        case .transient: return BackfillError(.unavailable, kind: .transient, message, location: location, underlying: error)
        case .data: return BackfillError(.writeFailed, kind: .data, message, location: location, underlying: error)
        case .permanent: return BackfillError(.invalidInput, message, location: location, underlying: error)
        }
    }

    /// Deadlock (1213) or lock wait timeout (1205): the statement (and, for a deadlock, its
    /// transaction) was rolled back and may simply run again.
    static func isConflict(_ error: BackfillError) -> Bool {
        guard let underlying = error.underlying as? MySQLServerError else { return false }
        return underlying.number == 1213 || underlying.number == 1205
    }

    static func classify(_ number: UInt32) -> BackfillError.Kind {
        switch number {
        // Deadlock, lock wait timeout, query interrupted or timed out, too many connections,
        // server shutting down, read-only while failing over; client-side connection errors.
        case 1205, 1213, 1317, 1040, 1053, 1927, 1969, 3024, 4031, 1290, 1836: return .transient
        // Unknown host, TLS set-up failed, authentication plugin missing or needing TLS: the DSN is wrong.
        case 2005, 2026, 2059, 2061: return .permanent
        case 2000..<3000: return .transient
        // Duplicate entry, NOT NULL, data too long, out of range, incorrect value, truncated,
        // invalid JSON, foreign key, CHECK constraint, invalid character string, division by zero.
        case 1048, 1062, 1264, 1265, 1292, 1366, 1367, 1406, 1411, 1416, 1451, 1452, 1690, 3140, 3819, 4025, 4078, 1300, 1365:
            return .data
        default: return .permanent
        }
    }

    /// The message without the values it quotes: `Duplicate entry '42' for key 'PRIMARY'` →
    /// `Duplicate entry … for key 'PRIMARY'`; `Incorrect integer value: 'abc' for column …` →
    /// `Incorrect integer value: … for column …`.
    static func withoutValues(_ message: String) -> String {
        var text = message
        for prefix in ["Duplicate entry '", "value: '", "Truncated incorrect DOUBLE value: '"] {
            guard let start = text.range(of: prefix), let end = text.range(of: "' for ", range: start.upperBound..<text.endIndex) else { continue }
            text.replaceSubrange(text.index(before: start.upperBound)..<end.upperBound, with: "… for ")
        }
        return text
    }
}
