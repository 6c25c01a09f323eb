/// The one error type of `backfill`: a code, a message a user can act on, and context.
///
/// Messages never contain row values, bind values or connection strings.
public struct BackfillError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable category; the CLI maps it to an exit code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidSpec = "invalid-spec"
            case invalidInput = "invalid-input"
            case unavailable = "unavailable"
            case writeFailed = "write-failed"
            case runConflict = "run-conflict"
            case stateStore = "state-store"
            case leaseLost = "lease-lost"
        }
        private let base: Base

        /// The spec file is malformed or inconsistent with the source or target.
        public static let invalidSpec = Code(base: .invalidSpec)
        /// A source, target or argument cannot be used as given.
        public static let invalidInput = Code(base: .invalidInput)
        /// A dependency could not be reached (may be transient).
        public static let unavailable = Code(base: .unavailable)
        /// A write to the target failed.
        public static let writeFailed = Code(base: .writeFailed)
        /// The run cannot be started or resumed in its current state.
        public static let runConflict = Code(base: .runConflict)
        /// The state store failed.
        public static let stateStore = Code(base: .stateStore)
        /// This process's lease on a chunk expired and another process took the chunk over: the
        /// batch's checkpoint was refused (and, when committed with the rows, so were they).
        public static let leaseLost = Code(base: .leaseLost)

        public var description: String { base.rawValue }
    }

    /// How the runner treats the error.
    public enum Kind: String, Sendable, Codable {
        /// Worth retrying with backoff (busy database, lost connection).
        case transient
        /// Retrying will not help; the run fails.
        case permanent
        /// The row itself is bad; it goes to quarantine.
        case data
    }

    public var code: Code
    public var kind: Kind
    public var message: String
    /// Where: a file and line, a spec field, a chunk or a table.
    public var location: String?
    public var underlying: (any Error)?

    public init(_ code: Code, kind: Kind = .permanent, _ message: String, location: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.kind = kind
        self.message = message
        self.location = location
        self.underlying = underlying
    }

    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }

    /// What to say of `error` in a status line, a log or an event: a `BackfillError`'s message,
    /// otherwise only the error's type (its description could carry a server's words or a secret).
    public static func message(of error: any Error) -> String {
        (error as? BackfillError)?.message ?? String(describing: type(of: error))
    }
}
