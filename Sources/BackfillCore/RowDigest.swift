/// An engine-independent hash of rows, for reconciling a target against its source.
///
/// Each value is encoded canonically (a type tag, then its bytes; a real with an integral value
/// hashes as that integer), so equal data hashes equal whichever engine stored it.
public enum RowDigest {
    /// The 64-bit hash of one row (or key).
    public static func hash(_ values: [Value]) -> UInt64 {
        hash(of: values, at: values.indices)
    }

    /// The hash of `row`'s values at `indices`, in their order: `hash(indices.map { row[$0] })`
    /// without building that array.
    public static func hash<Indices: Collection<Int>>(of row: [Value], at indices: Indices) -> UInt64 {
        var h = Fingerprint.offsetBasis
        for index in indices {
            let value = row[index]
            switch value {
            case .null:
                h = Fingerprint.hash(CollectionOfOne(0), seed: h)
            case .integer(let v):
                h = hashInteger(v, seed: h)
            case .real(let v):
                if let exact = Int64(exactly: v) {
                    h = hashInteger(exact, seed: h)
                } else {
                    h = Fingerprint.hash(CollectionOfOne(2), seed: h)
                    h = hashWord((v.isNaN ? Double.nan : v).bitPattern, seed: h)  // every NaN is one value
                }
            case .text(let v):
                h = Fingerprint.hash(CollectionOfOne(3), seed: h)
                h = hashWord(UInt64(v.utf8.count), seed: h)
                h = Fingerprint.hash(v.utf8, seed: h)
            case .blob(let v):
                h = Fingerprint.hash(CollectionOfOne(4), seed: h)
                h = hashWord(UInt64(v.count), seed: h)
                h = Fingerprint.hash(v, seed: h)
            }
        }
        return finalize(h)
    }

    private static func hashInteger(_ v: Int64, seed: UInt64) -> UInt64 {
        hashWord(UInt64(bitPattern: v), seed: Fingerprint.hash(CollectionOfOne(1), seed: seed))
    }

    private static func hashWord(_ word: UInt64, seed: UInt64) -> UInt64 {
        var h = seed
        var w = word
        for _ in 0..<8 {
            h ^= w & 0xff
            h = h &* Fingerprint.prime
            w >>= 8
        }
        return h
    }

    /// A final avalanche (splitmix64) so that sums of hashes stay well distributed.
    private static func finalize(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Count and order-independent checksum of a set of rows.
public struct TableDigest: Sendable, Hashable, Codable, CustomStringConvertible {
    public var count = 0
    public var sum: UInt64 = 0

    public init() {}

    public init(count: Int, sum: UInt64) {
        self.count = count
        self.sum = sum
    }

    public mutating func add(_ row: [Value]) {
        count += 1
        sum = sum &+ RowDigest.hash(row)
    }

    public var description: String {
        let hex = String(sum, radix: 16)
        return "\(count) rows, checksum \(String(repeating: "0", count: 16 - hex.count) + hex)"
    }
}
