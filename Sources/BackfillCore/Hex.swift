/// Lowercase hexadecimal text of bytes, two digits per byte.
public enum Hex {
    /// The 16 digits' bytes, indexed by value.
    public static let digits = Array("0123456789abcdef".utf8)

    /// `bytes` as lowercase hex (`[0x0a, 0xff]` → `"0aff"`).
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        append(bytes, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends `bytes` as lowercase hex digits to `text`.
    public static func append<Bytes: Sequence>(_ bytes: Bytes, to text: inout [UInt8]) where Bytes.Element == UInt8 {
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
    }
}
