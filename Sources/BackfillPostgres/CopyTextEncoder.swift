import BackfillCore
import NIOCore

/// Writes rows in `COPY … FROM STDIN (FORMAT text)`: tab-separated columns, one row per line,
/// `\N` for NULL, and backslash escapes for backslash, tab, newline and carriage return.
///
/// Each row is written into the buffer's free bytes in one step (room for its longest form
/// reserved first): a `ByteBuffer` write per value and separator cost more than the encoding.
enum CopyTextEncoder {
    static func encode(_ rows: [[Value]], into buffer: inout ByteBuffer) {
        for row in rows {
            // A separator or the line break per value, plus each value's longest form.
            var room = max(1, row.count)
            for value in row { room += longestForm(of: value) }
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { free in
                var out = RowWriter(bytes: free.bindMemory(to: UInt8.self))
                for (index, value) in row.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: "\t")) }
                    out.write(value)
                }
                out.append(UInt8(ascii: "\n"))
                return out.count
            }
        }
    }

    /// The most bytes `value` takes in COPY text.
    private static func longestForm(of value: Value) -> Int {
        switch value {
        case .null: 2
        case .integer: 20
        // `String(Double)` (the shortest form that reads back exactly) is at most 24 bytes.
        case .real: 32
        // Every byte may need an escape.
        case .text(let text): text.utf8.count * 2
        case .blob(let bytes): 3 + bytes.count * 2
        }
    }

    /// Appends to free bytes known to have room (`longestForm`).
    private struct RowWriter {
        let bytes: UnsafeMutableBufferPointer<UInt8>
        private(set) var count = 0

        init(bytes: UnsafeMutableBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        mutating func append(_ byte: UInt8) {
            bytes[count] = byte
            count += 1
        }

        mutating func append(_ source: UnsafeBufferPointer<UInt8>) {
            guard let base = source.baseAddress, !source.isEmpty else { return }
            UnsafeMutableRawPointer(bytes.baseAddress! + count).copyMemory(from: base, byteCount: source.count)
            count += source.count
        }

        mutating func append(_ text: StaticString) {
            text.withUTF8Buffer { append($0) }
        }

        mutating func write(_ value: Value) {
            switch value {
            case .null:
                append("\\N")
            case .integer(let v):
                writeDecimal(v)
            case .real(let v):
                if v.isNaN {
                    append("NaN")
                } else if v.isInfinite {
                    append(v > 0 ? "Infinity" : "-Infinity")
                } else {
                    var text = String(v)
                    text.withUTF8 { append($0) }
                }
            case .text(let v):
                var text = v
                text.withUTF8 { writeEscaped($0) }
            case .blob(let blob):
                // bytea's hex input form `\x…`, its backslash escaped for COPY.
                append("\\\\x")
                for byte in blob {
                    append(Hex.digits[Int(byte >> 4)])
                    append(Hex.digits[Int(byte & 0x0f)])
                }
            }
        }

        private mutating func writeDecimal(_ value: Int64) {
            if value < 0 { append(UInt8(ascii: "-")) }
            // The magnitude is unsigned, so that Int64.min has one.
            var magnitude = value.magnitude
            let first = count
            repeat {
                append(UInt8(ascii: "0") + UInt8(magnitude % 10))
                magnitude /= 10
            } while magnitude > 0
            // Written least significant digit first.
            var digits = UnsafeMutableBufferPointer(rebasing: bytes[first..<count])
            digits.reverse()
        }

        private mutating func writeEscaped(_ text: UnsafeBufferPointer<UInt8>) {
            guard text.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\t") || $0 == 10 || $0 == 13 }) else {
                append(text)
                return
            }
            for byte in text {
                switch byte {
                case UInt8(ascii: "\\"): append("\\\\")
                case UInt8(ascii: "\t"): append("\\t")
                case 10: append("\\n")
                case 13: append("\\r")
                default: append(byte)
                }
            }
        }
    }
}
