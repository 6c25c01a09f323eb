import BackfillCore

/// Parses one line of JSONL holding one JSON object (RFC 8259), straight from its bytes.
///
/// Members are walked in order with `nextKey()`; the caller then either decodes the value with
/// `value()` or validates and skips it with `skipValue()`, so columns nobody asked for cost no
/// allocation. Numbers keep their kind as written: integer literals become `.integer`, literals
/// with a fraction or exponent `.real`; literals that do not fit (beyond Int64, or overflowing a
/// Double) stay `.text` with their digits, so no precision is lost silently.
struct JSONLineParser {
    /// Nesting deeper than this is refused rather than risk the stack.
    static let maxDepth = 512

    // Internal rather than private: the string and number extensions read and advance them.
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    private var awaitingFirstMember = true

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Reads the opening brace of the line's object.
    /// - Throws: `.notObject` when the line is valid JSON of another kind, `.invalid` when it is not JSON.
    mutating func beginObject() throws(JSONLineProblem) {
        skipWhitespace()
        guard current == UInt8(ascii: "{") else {
            try skipValue()
            try end()
            throw .notObject
        }
        index += 1
    }

    /// The next member's key, positioned before its value; `nil` after the closing brace.
    mutating func nextKey() throws(JSONLineProblem) -> String? {
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return nil
        }
        if !awaitingFirstMember {
            try expect(ASCII.comma)
            skipWhitespace()
        }
        awaitingFirstMember = false
        guard current == ASCII.quote else { throw .invalid(at: index) }
        let key = try string()
        skipWhitespace()
        try expect(UInt8(ascii: ":"))
        return key
    }

    /// Checks nothing but whitespace follows the object.
    mutating func end() throws(JSONLineProblem) {
        skipWhitespace()
        guard index == bytes.count else { throw .invalid(at: index) }
    }

    /// Decodes the value at the current position.
    mutating func value() throws(JSONLineProblem) -> Value {
        skipWhitespace()
        switch current {
        case ASCII.quote:
            return .text(try string())
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let start = index
            try skipValue()
            return .text(compactText(start..<index))
        case UInt8(ascii: "t"):
            try literal("true")
            return .integer(1)
        case UInt8(ascii: "f"):
            try literal("false")
            return .integer(0)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            return try number()
        }
    }

    /// Validates the value at the current position and moves past it.
    mutating func skipValue(depth: Int = 0) throws(JSONLineProblem) {
        skipWhitespace()
        switch current {
        case ASCII.quote:
            _ = try string()
        case UInt8(ascii: "{"):
            try skipContainer(closing: UInt8(ascii: "}"), hasKeys: true, depth: depth + 1)
        case UInt8(ascii: "["):
            try skipContainer(closing: UInt8(ascii: "]"), hasKeys: false, depth: depth + 1)
        default:
            _ = try value()
        }
    }

    private mutating func skipContainer(closing: UInt8, hasKeys: Bool, depth: Int) throws(JSONLineProblem) {
        guard depth <= Self.maxDepth else { throw .tooDeep(limit: Self.maxDepth) }
        index += 1
        skipWhitespace()
        if current == closing {
            index += 1
            return
        }
        while true {
            if hasKeys {
                skipWhitespace()
                guard current == ASCII.quote else { throw .invalid(at: index) }
                _ = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
            }
            try skipValue(depth: depth)
            skipWhitespace()
            if current == closing {
                index += 1
                return
            }
            try expect(ASCII.comma)
        }
    }

    private mutating func skipWhitespace() {
        while let byte = current,
            byte == ASCII.space || byte == ASCII.tab || byte == ASCII.lineFeed
                || byte == ASCII.carriageReturn
        {
            index += 1
        }
    }

    private mutating func expect(_ byte: UInt8) throws(JSONLineProblem) {
        guard current == byte else { throw .invalid(at: index) }
        index += 1
    }

    private mutating func literal(_ word: StaticString) throws(JSONLineProblem) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw .invalid(at: index) }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw .invalid(at: index + offset)
        }
        index += count
    }
}
