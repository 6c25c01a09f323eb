import BackfillCore

extension JSONLineParser {
    /// Decodes the number at the current position, keeping its kind as written.
    mutating func number() throws(JSONLineProblem) -> Value {
        let start = index
        let negative = current == UInt8(ascii: "-")
        if negative { index += 1 }
        guard let first = current, Self.isDigit(first) else { throw .invalid(at: index) }
        var integer: Int64 = 0
        var overflow = false
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            while let byte = current, Self.isDigit(byte) {
                // Accumulate on the negative side for negative numbers, so Int64.min fits.
                let digit = Int64(byte - UInt8(ascii: "0"))
                let (shifted, shiftOverflow) = integer.multipliedReportingOverflow(by: 10)
                let (next, addOverflow) =
                    negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
                overflow = overflow || shiftOverflow || addOverflow
                integer = next
                index += 1
            }
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try digits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            try digits()
        }
        if isInteger, !overflow { return .integer(integer) }
        let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard !isInteger, let real = Double(literal), real.isFinite else { return .text(literal) }
        return .real(real)
    }

    /// One digit or more.
    private mutating func digits() throws(JSONLineProblem) {
        guard let first = current, Self.isDigit(first) else { throw .invalid(at: index) }
        while let byte = current, Self.isDigit(byte) { index += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
