/// Parses one RFC 4180 record at a time from bytes in memory.
///
/// Fields are `,`-separated and may be quoted with `"`; inside quotes `""` is a quote, and commas, CR
/// and LF are data. Records end with LF or CRLF (a lone CR outside quotes is data), or at the end
/// of the file. Parsing works on bytes, never on `Character`s, and only records field boundaries:
/// values are decoded later, and only for the columns that are wanted.
struct CSVRecordParser {
    /// The fields of the last record parsed, valid for the bytes it was parsed from.
    private(set) var fields: [CSVField] = []

    /// What `parse` found at the front of the bytes.
    enum Outcome: Equatable {
        /// The record runs past the bytes and the file goes on: parse again with more bytes. When the
        /// record outgrows any buffer, resynchronise at the first line feed after `resynchroniseFrom`
        /// (the open quote or the error), or after the bytes when `nil`.
        case incomplete(resynchroniseFrom: Int?)
        /// An empty line, skipped.
        case blankLine(end: Int, lineBreaks: Int)
        /// A record, its fields in `fields`; `end` is just after its line break.
        case record(end: Int, lineBreaks: Int)
        /// A record that breaks the format; `end` is just after the line break where parsing resumes.
        case malformed(CSVProblem, end: Int, lineBreaks: Int)
    }

    /// How a field ended.
    private enum FieldEnd {
        case separator(next: Int)
        case recordEnd(end: Int, lineBreak: Bool)
        case needMore(resynchroniseFrom: Int?)
        case problem(CSVProblem, at: Int)
    }

    /// Parses the record starting at `start`; `start` must be before the end of `bytes` unless more bytes follow.
    /// - Parameter atEnd: `bytes` runs to the end of the file.
    mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, atEnd: Bool) -> Outcome {
        fields.removeAll(keepingCapacity: true)
        if let blank = Self.blankLine(bytes, at: start, atEnd: atEnd) { return blank }
        var index = start
        var lineBreaks = 0
        while true {
            let end: FieldEnd
            if index < bytes.count, bytes[index] == ASCII.quote {
                end = quotedField(bytes, from: index, atEnd: atEnd, lineBreaks: &lineBreaks)
            } else {
                end = unquotedField(bytes, from: index, atEnd: atEnd)
            }
            switch end {
            case .separator(let next):
                index = next
            case .recordEnd(let end, let lineBreak):
                return .record(end: end, lineBreaks: lineBreaks + (lineBreak ? 1 : 0))
            case .needMore(let from):
                return .incomplete(resynchroniseFrom: from)
            case .problem(let problem, let at):
                return Self.resynchronise(bytes, recordStart: start, problem: problem, at: at, atEnd: atEnd)
            }
        }
    }

    /// An empty line (LF or CRLF) at `index`, or `.incomplete` when it cannot be told yet; `nil` for a record.
    private static func blankLine(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, atEnd: Bool) -> Outcome? {
        guard index < bytes.count else {
            return atEnd ? .blankLine(end: index, lineBreaks: 0) : .incomplete(resynchroniseFrom: nil)
        }
        if bytes[index] == ASCII.lineFeed { return .blankLine(end: index + 1, lineBreaks: 1) }
        guard bytes[index] == ASCII.carriageReturn else { return nil }
        if index + 1 == bytes.count {
            return atEnd ? .blankLine(end: index + 1, lineBreaks: 0) : .incomplete(resynchroniseFrom: nil)
        }
        return bytes[index + 1] == ASCII.lineFeed ? .blankLine(end: index + 2, lineBreaks: 1) : nil
    }

    private mutating func unquotedField(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, atEnd: Bool) -> FieldEnd {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            // Fast path: digits, letters and most punctuation sort after every byte that matters here.
            if byte > ASCII.comma {
                index += 1
                continue
            }
            if byte == ASCII.comma || byte == ASCII.lineFeed { break }
            if byte == ASCII.quote { return .problem(.quoteInUnquotedField(field: fields.count + 1), at: index) }
            if byte == ASCII.carriageReturn, index + 1 == bytes.count || bytes[index + 1] == ASCII.lineFeed { break }
            index += 1
        }
        fields.append(CSVField(start: start, end: index, isQuoted: false, hasEscapedQuotes: false))
        // Only a separator, a line break or the end of the bytes can stop the loop, so this is never nil.
        return Self.terminator(bytes, at: index, atEnd: atEnd) ?? .needMore(resynchroniseFrom: nil)
    }

    private mutating func quotedField(
        _ bytes: UnsafeBufferPointer<UInt8>, from open: Int, atEnd: Bool, lineBreaks: inout Int
    ) -> FieldEnd {
        var index = open + 1
        var hasEscapedQuotes = false
        while true {
            while index < bytes.count, bytes[index] != ASCII.quote {
                if bytes[index] == ASCII.lineFeed { lineBreaks += 1 }
                index += 1
            }
            if index + 1 < bytes.count, bytes[index + 1] == ASCII.quote {
                hasEscapedQuotes = true
                index += 2
                continue
            }
            // At the last byte a quote could still be the first of a `""` pair.
            if index + 1 >= bytes.count, !atEnd { return .needMore(resynchroniseFrom: open) }
            if index == bytes.count { return .problem(.unterminatedQuote(field: fields.count + 1), at: open) }
            break
        }
        fields.append(CSVField(start: open + 1, end: index, isQuoted: true, hasEscapedQuotes: hasEscapedQuotes))
        return Self.terminator(bytes, at: index + 1, atEnd: atEnd)
            ?? .problem(.characterAfterClosingQuote(field: fields.count), at: index + 1)
    }

    /// The separator or line break at `index`, if there is one.
    private static func terminator(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, atEnd: Bool) -> FieldEnd? {
        guard index < bytes.count else {
            return atEnd ? .recordEnd(end: index, lineBreak: false) : .needMore(resynchroniseFrom: nil)
        }
        switch bytes[index] {
        case ASCII.comma:
            return .separator(next: index + 1)
        case ASCII.lineFeed:
            return .recordEnd(end: index + 1, lineBreak: true)
        case ASCII.carriageReturn:
            if index + 1 == bytes.count {
                return atEnd ? .recordEnd(end: index + 1, lineBreak: false) : .needMore(resynchroniseFrom: nil)
            }
            return bytes[index + 1] == ASCII.lineFeed ? .recordEnd(end: index + 2, lineBreak: true) : nil
        default:
            return nil
        }
    }

    /// Ends a malformed record at the first line feed at or after `at`, so one bad quote cannot swallow the records after it.
    private static func resynchronise(
        _ bytes: UnsafeBufferPointer<UInt8>, recordStart: Int, problem: CSVProblem, at: Int, atEnd: Bool
    ) -> Outcome {
        let lineFeed = bytes[at...].firstIndex(of: ASCII.lineFeed)
        guard lineFeed != nil || atEnd else { return .incomplete(resynchroniseFrom: at) }
        let end = lineFeed.map { $0 + 1 } ?? bytes.count
        let lineBreaks = bytes[recordStart..<end].reduce(0) { $1 == ASCII.lineFeed ? $0 + 1 : $0 }
        return .malformed(problem, end: end, lineBreaks: lineBreaks)
    }
}
