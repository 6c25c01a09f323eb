/// Why a JSONL line is not a record, for the quarantine.
enum JSONLineProblem: Error, Hashable, Sendable {
    /// The JSON grammar breaks at this 0-based byte of the line.
    case invalid(at: Int)
    /// A string holds bytes that are not UTF-8, from this 0-based byte of the line.
    case invalidUTF8(at: Int)
    /// Valid JSON, but not an object.
    case notObject
    /// Arrays and objects nest deeper than the parser follows.
    case tooDeep(limit: Int)
    /// The line outgrew the size limit before its line feed.
    case tooLong(limit: Int)

    /// The reason stored with the rejected record; it gives positions, never values.
    var reason: String {
        switch self {
        case .invalid(let offset):
            return "line is not valid JSON (unexpected input at column \(offset + 1))"
        case .invalidUTF8(let offset):
            return "line is not valid JSON (a string at column \(offset + 1) is not valid UTF-8)"
        case .notObject:
            return "line is not a JSON object"
        case .tooDeep(let limit):
            return "line is not valid JSON (arrays and objects nest deeper than \(limit) levels)"
        case .tooLong(let limit):
            return "line is longer than \(limit) bytes"
        }
    }
}
