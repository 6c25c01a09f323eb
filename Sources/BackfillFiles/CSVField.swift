import BackfillCore

/// One field of a parsed CSV record: where its content lies in the parsed bytes.
struct CSVField: Hashable {
    /// Offset of the content's first byte, after any opening quote.
    var start: Int
    /// Offset just after the content, before any closing quote.
    var end: Int
    var isQuoted: Bool
    /// The content holds `""` pairs, each standing for one quote.
    var hasEscapedQuotes: Bool

    /// The field's value: `.null` when unquoted and empty, `.text` otherwise; `nil` when not valid UTF-8.
    func value(in bytes: UnsafeBufferPointer<UInt8>) -> Value? {
        if !isQuoted, start == end { return .null }
        return text(in: bytes).map(Value.text)
    }

    /// The field's text, quotes unescaped; `nil` when not valid UTF-8.
    func text(in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let content = UnsafeBufferPointer(rebasing: bytes[start..<end])
        guard hasEscapedQuotes else { return UTF8Text.valid(content) }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(content.count)
        var index = 0
        while index < content.count {
            unescaped.append(content[index])
            // The parser only lets quotes through in pairs, so skip the second of each.
            index += content[index] == ASCII.quote ? 2 : 1
        }
        return unescaped.withUnsafeBufferPointer(UTF8Text.valid)
    }
}
