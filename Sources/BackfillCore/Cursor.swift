/// Where a chunk's reading stopped: after the last row that was written and checkpointed.
///
/// Table sources resume after `key` (keyset pagination); file sources resume at `byteOffset`,
/// on physical line `line`. Cursors are plain data so they survive in any state store.
public struct Cursor: Codable, Sendable, Hashable {
    /// The key of the last row of the batch, for keyset sources.
    public var key: [Value]?
    /// The byte offset just after the last record, for file sources.
    public var byteOffset: Int?
    /// The 1-based physical line the next record starts on, for file sources.
    public var line: Int?

    public init(key: [Value]? = nil, byteOffset: Int? = nil, line: Int? = nil) {
        self.key = key
        self.byteOffset = byteOffset
        self.line = line
    }
}

/// A half-open range `[lower, upper)` of the key space; `nil` bounds are unbounded. A chunk of an
/// export read in parts covers one `part` instead, in file order.
public struct KeyRange: Codable, Sendable, Hashable {
    public var lower: [Value]?
    public var upper: [Value]?
    /// The export part the chunk covers (file sources), as it was when the run was planned.
    public var part: SourcePart?

    public init(lower: [Value]? = nil, upper: [Value]? = nil, part: SourcePart? = nil) {
        self.lower = lower
        self.upper = upper
        self.part = part
    }

    /// The whole key space.
    public static let all = KeyRange()

    /// Whether `key` lies inside the range, ordering tuples lexicographically.
    public func contains(_ key: [Value]) -> Bool {
        if let lower, KeyOrder.compare(key, lower) < 0 { return false }
        if let upper, KeyOrder.compare(key, upper) >= 0 { return false }
        return true
    }
}

/// Lexicographic ordering of key tuples, column by column.
public enum KeyOrder {
    public static func compare(_ lhs: [Value], _ rhs: [Value]) -> Int {
        for (a, b) in zip(lhs, rhs) {
            let c = Value.compare(a, b)
            if c != 0 { return c }
        }
        return lhs.count == rhs.count ? 0 : (lhs.count < rhs.count ? -1 : 1)
    }
}
