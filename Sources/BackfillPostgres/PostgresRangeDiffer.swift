import BackfillCore

/// The batch differ between two PostgreSQL tables: `BucketRangeDiffer` over both tables hashed by
/// PostgreSQL's own type-aware hash (`hash_record_extended`, the hash the chunk comparison and
/// `verify` use, so equal means equal as `IS DISTINCT FROM` sees it). Buckets come from a hash of
/// the key, so every key type (integer, text, uuid, composite) works alike.
///
/// Offered where the comparer is: both tables declare the same types for the job's columns and
/// the spec has no `range.where`.
public enum PostgresRangeDiffer {
    /// A differ for `job` between the two tables, or `nil` where their rows cannot be compared by hash.
    public static func make(source: PostgresSource, target: PostgresSink, job: ResolvedJob) async throws -> BucketRangeDiffer? {
        guard let sides = try await PostgresWindowHashing.native(source: source, target: target, job: job) else { return nil }
        return BucketRangeDiffer(source: sides.source, target: sides.target)
    }
}
