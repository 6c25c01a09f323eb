import BackfillCore
import Foundation

/// An event's request body: one JSON object with the spec's columns as members, in column order.
/// Integers and reals are numbers, text is a string, a blob is its base64, NULL is `null`.
public enum EventJSON {
    public static func encode(columns: [String], row: [Value]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(64 + 32 * columns.count)
        for (index, (name, value)) in zip(columns, row).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case .null: out += Array("null".utf8)
            case .integer(let v): out += Array(String(v).utf8)
            case .real(let v): out += v.isFinite ? Array("\(v)".utf8) : Array("null".utf8)
            case .text(let v): appendString(v, to: &out)
            case .blob(let v): appendString(Data(v).base64EncodedString(), to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
