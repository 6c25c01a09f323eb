/// A `RangeComparer` over two sides that hash alike (`WindowHashing`): the rest of a chunk after a
/// cursor is compared first by its first `probeRows` rows (damage spread through the table fails
/// this cheap probe; skipped where the window before the cursor was found equal), then, only when
/// those match, as a whole — one count and checksum per side.
public struct WindowRangeComparer: RangeComparer {
    let source: any WindowHashing
    let target: any WindowHashing
    let probeRows: Int

    /// - Parameter probeRows: rows compared before the whole rest of a chunk is.
    public init(source: any WindowHashing, target: any WindowHashing, probeRows: Int = 1_000) {
        self.source = source
        self.target = target
        self.probeRows = probeRows
    }

    public func equalRows(in range: KeyRange, after cursor: Cursor?, probe: Bool) async throws -> Int? {
        if probe {
            let probed = try await source.windowBounds(in: range, after: cursor?.key, limit: probeRows)
            guard probed.last != nil else { return nil }
            if let next = probed.next {
                guard try await equalDigests(in: KeyRange(lower: range.lower, upper: next), after: cursor) != nil else { return nil }
            }
        }
        return try await equalDigests(in: range, after: cursor)
    }

    /// The rows in `range` after `cursor` when both sides hold the same rows there.
    private func equalDigests(in range: KeyRange, after cursor: Cursor?) async throws -> Int? {
        async let sourceDigest = source.bucketDigests(in: range, after: cursor?.key, buckets: 1)
        let targetDigest = try await target.bucketDigests(in: range, after: cursor?.key, buckets: 1)
        let digest = try await sourceDigest
        guard digest == targetDigest else { return nil }
        return digest.values.reduce(0) { $0 + $1.count }
    }
}
