#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text from bytes that must be valid UTF-8.
enum UTF8Text {
    /// `bytes` as text when they are valid UTF-8, else `nil`. Decoding repairs invalid sequences, so
    /// the text is valid exactly when its bytes are the input's (checked only when a byte is not
    /// ASCII). This is the string's fast path; `String(validating:as:)` takes a generic one,
    /// several times slower per field.
    static func valid(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        if bytes.allSatisfy({ $0 < 0x80 }) { return text }
        var copy = text
        return copy.withUTF8 { $0.count == bytes.count && memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 } ? text : nil
    }
}
