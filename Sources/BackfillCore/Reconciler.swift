/// Counts and checksums a source from start to end, so that two sides can be compared.
///
/// This is the demo's proof and the basis of `verify`: equal data gives equal digests whichever
/// engine holds it (see `RowDigest`).
public enum Reconciler {
    /// The digest of every row `source` yields (its `columns`), read in batches of `batchSize`.
    public static func digest(of source: any Source, batchSize: Int = 10_000) async throws -> TableDigest {
        var digest = TableDigest()
        var cursor: Cursor?
        while true {
            let batch = try await source.read(chunk: .all, after: cursor, limit: batchSize)
            for row in batch.rows { digest.add(row) }
            cursor = batch.cursor
            if batch.isLast { return digest }
        }
    }
}
