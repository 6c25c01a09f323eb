/// A `RangeComparer` over two tables of one engine that hash rows the same way inside it
/// (`VerifiableTable.digest`, as `verify` does): SQLite → SQLite, where the attached transfer
/// would otherwise scan every chunk of an equal table again.
///
/// A chunk is compared only when it starts afresh (a resumed chunk is read on from its cursor).
/// First the keys and row hashes of its first `probeRows` rows (1,000) on both sides — damage spread
/// through the table fails this cheap probe — then, only when those match, the count and checksum
/// of the whole chunk.
public struct TableRangeComparer: RangeComparer {
    let source: any VerifiableTable
    let target: any VerifiableTable
    let probeRows: Int

    /// `nil` unless both sides hash rows inside their engine.
    /// - Parameter probeRows: rows whose key hashes are compared before a whole chunk is.
    public init?(source: any VerifiableTable, target: any VerifiableTable, probeRows: Int = 1_000) {
        guard source.hashesRows, target.hashesRows else { return nil }
        self.source = source
        self.target = target
        self.probeRows = probeRows
    }

    public func equalRows(in range: KeyRange, after cursor: Cursor?, probe: Bool) async throws -> Int? {
        guard cursor == nil else { return nil }
        if probe {
            async let sourceProbe = source.keyHashes(in: range, after: nil, limit: probeRows)
            let targetProbe = try await target.keyHashes(in: range, after: nil, limit: probeRows)
            guard let probed = try await sourceProbe, probed == targetProbe else { return nil }
        }
        async let sourceDigest = source.digest(range)
        let targetDigest = try await target.digest(range)
        let digest = try await sourceDigest
        return digest == targetDigest ? digest.count : nil
    }
}
