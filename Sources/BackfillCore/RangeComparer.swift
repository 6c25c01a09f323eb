/// Compares one key range of the source and the target inside their databases, shipping no rows:
/// a count and a checksum per side.
///
/// The runner asks before reading a chunk; when both sides already hold the same rows there, the
/// chunk is done without reading it — a rerun over repaired data costs two aggregate queries per
/// chunk instead of shipping every row. A mismatch (or a side that cannot be hashed the same way)
/// only means the chunk is read as usual, so a comparer can never cause a missed repair; rows
/// counted through it are `unchanged`.
public protocol RangeComparer: Sendable {
    /// The number of rows in `range` after `cursor` when source and target hold the same rows
    /// there; `nil` when they differ.
    /// - Parameter probe: whether to compare the first rows after `cursor` before all of them
    ///   (damage spread through the table fails that cheaply). `false` where the batch that ended
    ///   at `cursor` found its whole window equal: that window was the probe.
    func equalRows(in range: KeyRange, after cursor: Cursor?, probe: Bool) async throws -> Int?
}
