import BackfillCore
import NIOCore

/// Writes rows in `COPY … FROM STDIN (FORMAT text)`: tab-separated columns, one row per line,
/// `\N` for NULL, and backslash escapes for backslash, tab, newline and carriage return.
enum CopyTextEncoder {
    static func encode(_ rows: [[Value]], into buffer: inout ByteBuffer) {
        for row in rows {
            for (index, value) in row.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                write(value, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
    }

    private static func write(_ value: Value, into buffer: inout ByteBuffer) {
        switch value {
        case .null:
            buffer.writeStaticString("\\N")
        case .integer(let v):
            buffer.writeString(String(v))
        case .real(let v):
            if v.isNaN {
                buffer.writeStaticString("NaN")
            } else if v.isInfinite {
                buffer.writeStaticString(v > 0 ? "Infinity" : "-Infinity")
            } else {
                buffer.writeString(String(v))
            }
        case .text(let v):
            writeEscaped(v, into: &buffer)
        case .blob(let bytes):
            // bytea's hex input form `\x…`, its backslash escaped for COPY.
            buffer.writeStaticString("\\\\x")
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            buffer.reserveCapacity(minimumWritableBytes: bytes.count * 2)
            for byte in bytes {
                buffer.writeInteger(digits[Int(byte >> 4)])
                buffer.writeInteger(digits[Int(byte & 0x0f)])
            }
        }
    }

    private static func writeEscaped(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            guard bytes.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\t") || $0 == 10 || $0 == 13 }) else {
                buffer.writeBytes(bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case 10: buffer.writeStaticString("\\n")
                case 13: buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
    }
}
