import BackfillCore

extension JSONLineParser {
    /// Decodes the string whose opening quote is at the current position.
    mutating func string() throws(JSONLineProblem) -> String {
        index += 1
        let start = index
        while let byte = current {
            if byte == ASCII.quote {
                guard let text = UTF8Text.valid(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                else { throw .invalidUTF8(at: start - 1) }
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw .invalid(at: index) }
            index += 1
        }
        throw .invalid(at: index)
    }

    /// Finishes a string that holds escapes, from its first escape on.
    private mutating func escapedString(from start: Int) throws(JSONLineProblem) -> String {
        var decoded = Array(bytes[start..<index])
        while let byte = current {
            index += 1
            switch byte {
            case ASCII.quote:
                guard let text = decoded.withUnsafeBufferPointer(UTF8Text.valid) else { throw .invalidUTF8(at: start - 1) }
                return text
            case UInt8(ascii: "\\"):
                try unescape(into: &decoded)
            case ..<0x20:
                throw .invalid(at: index - 1)
            default:
                decoded.append(byte)
            }
        }
        throw .invalid(at: index)
    }

    /// Decodes the escape after a backslash.
    private mutating func unescape(into decoded: inout [UInt8]) throws(JSONLineProblem) {
        guard let escape = current else { throw .invalid(at: index) }
        index += 1
        switch escape {
        case ASCII.quote, UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(ASCII.lineFeed)
        case UInt8(ascii: "r"): decoded.append(ASCII.carriageReturn)
        case UInt8(ascii: "t"): decoded.append(ASCII.tab)
        case UInt8(ascii: "u"): decoded.append(contentsOf: Character(try unicodeEscape()).utf8)
        default: throw .invalid(at: index - 1)
        }
    }

    /// The scalar of a `\uXXXX` escape (after the `u`), joining a UTF-16 surrogate pair.
    private mutating func unicodeEscape() throws(JSONLineProblem) -> Unicode.Scalar {
        let start = index - 2
        let first = try hexQuad()
        var value = first
        if (0xD800...0xDBFF).contains(first) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else { throw .invalid(at: start) }
            index += 2
            let second = try hexQuad()
            guard (0xDC00...0xDFFF).contains(second) else { throw .invalid(at: start) }
            value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        }
        // A lone low surrogate is no scalar.
        guard let scalar = Unicode.Scalar(value) else { throw .invalid(at: start) }
        return scalar
    }

    private mutating func hexQuad() throws(JSONLineProblem) -> UInt32 {
        guard index + 4 <= bytes.count else { throw .invalid(at: index) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .invalid(at: index)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// The compact JSON text of an array or object: its bytes without the whitespace between tokens.
    func compactText(_ range: Range<Int>) -> String {
        var compact: [UInt8] = []
        compact.reserveCapacity(range.count)
        var inString = false
        var position = range.lowerBound
        while position < range.upperBound {
            let byte = bytes[position]
            if inString {
                compact.append(byte)
                if byte == UInt8(ascii: "\\") {
                    compact.append(bytes[position + 1])
                    position += 1
                } else if byte == ASCII.quote {
                    inString = false
                }
            } else if byte != ASCII.space, byte != ASCII.tab, byte != ASCII.lineFeed, byte != ASCII.carriageReturn {
                compact.append(byte)
                inString = byte == ASCII.quote
            }
            position += 1
        }
        return String(decoding: compact, as: UTF8.self)
    }
}
