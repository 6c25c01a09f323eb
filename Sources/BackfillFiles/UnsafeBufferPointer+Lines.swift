import Foundation

extension UnsafeBufferPointer<UInt8> {
    /// The offset of the first line feed at or after `start`, found with `memchr`.
    func firstLineFeed(from start: Int) -> Int? {
        guard start < count, let base = baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(ASCII.lineFeed), count - start) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// Whether the bytes in `range` are all JSON whitespace.
    func isBlank(_ range: Range<Int>) -> Bool {
        self[range].allSatisfy { $0 == ASCII.space || $0 == ASCII.tab || $0 == ASCII.carriageReturn }
    }
}
