/// Why a CSV record breaks the format, for the quarantine.
enum CSVProblem: Error, Hashable, Sendable {
    case quoteInUnquotedField(field: Int)
    case characterAfterClosingQuote(field: Int)
    case unterminatedQuote(field: Int)
    case fieldCount(expected: Int, found: Int)
    case invalidUTF8(column: String)
    case tooLong(limit: Int)

    /// The reason stored with the rejected record; it names fields and columns, never values.
    var reason: String {
        switch self {
        case .quoteInUnquotedField(let field):
            return "field \(field): quote inside an unquoted field (quote the whole field and double the quotes in it)"
        case .characterAfterClosingQuote(let field):
            return
                "field \(field): characters after the closing quote (a quoted field must end at a comma or line break)"
        case .unterminatedQuote(let field):
            return "field \(field): quoted field has no closing quote"
        case .fieldCount(let expected, let found):
            return "expected \(expected) fields, found \(found)"
        case .invalidUTF8(let column):
            return "column '\(column)': value is not valid UTF-8"
        case .tooLong(let limit):
            return "record is longer than \(limit) bytes (a closing quote may be missing)"
        }
    }
}
