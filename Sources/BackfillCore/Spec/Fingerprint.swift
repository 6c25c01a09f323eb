/// A stable 64-bit FNV-1a hash, for spec fingerprints and row checksums.
public enum Fingerprint {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    public static func hash(_ bytes: some Sequence<UInt8>, seed: UInt64 = offsetBasis) -> UInt64 {
        if let h = bytes.withContiguousStorageIfAvailable({ hash(buffer: $0, seed: seed) }) { return h }
        var h = seed
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* prime
        }
        return h
    }

    /// The same hash over contiguous bytes (the fast path for native strings and arrays).
    @inlinable
    public static func hash(buffer: UnsafeBufferPointer<UInt8>, seed: UInt64 = offsetBasis) -> UInt64 {
        var h = seed
        for byte in buffer {
            h ^= UInt64(byte)
            h = h &* prime
        }
        return h
    }

    public static func hex(of text: String) -> String {
        let h = hash(text.utf8)
        let s = String(h, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
