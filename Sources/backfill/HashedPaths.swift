import BackfillCore
import BackfillMySQL
import BackfillPostgres
import BackfillSQLite

/// The in-engine comparisons a job's run uses, picked by the pair of endpoints: equal chunks
/// skipped (`comparer`) and, per batch, only the rows whose hashes differ read (`differ`).
struct HashedPaths: Sendable {
    var comparer: (any RangeComparer)?
    var differ: (any RangeDiffer)?
    /// Why every row is read between two databases, where the run has no differ.
    var rowPathReason: String?

    /// Needs the job's mode to be a plain write and no `range.where` (the target cannot evaluate
    /// the source's filter).
    static func pick(_ spec: JobSpec, job: ResolvedJob, source: OpenedSource, sink: OpenedSink, target: ConfiguredTarget) async throws
        -> HashedPaths
    {
        if spec.mode == .updateInPlace { return HashedPaths(rowPathReason: "mode update-in-place computes its values in the target") }
        if spec.range.whereClause != nil { return HashedPaths(rowPathReason: "the target cannot evaluate the source's range.where") }
        switch (source, sink) {
        case (.postgres(let postgres), .postgres(let targetSink)):
            let comparer = try await PostgresRangeComparer.make(source: postgres, target: targetSink, job: job)
            guard let differ = try await PostgresRangeDiffer.make(source: postgres, target: targetSink, job: job) else {
                return HashedPaths(rowPathReason: "the tables declare different column types")
            }
            return HashedPaths(comparer: comparer, differ: differ)
        case (.mysql(let mysql), .mysql(let targetSink)):
            guard let sides = try await MySQLWindowHashing.pair(source: mysql, target: targetSink, job: job) else {
                return HashedPaths(rowPathReason: "the tables declare different column types")
            }
            return HashedPaths(
                comparer: WindowRangeComparer(source: sides.source, target: sides.target),
                differ: BucketRangeDiffer(source: sides.source, target: sides.target))
        case (.sqlite(let sqlite), .sqlite):
            // Both files hash rows the same way inside SQLite: an equal chunk is not scanned again.
            let comparer = try await target.table(spec, columns: job.columns).flatMap { TableRangeComparer(source: sqlite, target: $0, probeRows: 1_000) }
            return HashedPaths(comparer: comparer)
        case (.sqlite(let sqlite), .postgres(let targetSink)):
            let table = try await PostgresSource(database: targetSink.database, table: targetSink.table, key: spec.key, range: spec.range)
                .selecting(job.columns).inKeyByteOrder()
            return try await across {
                let targetSide = try await PostgresWindowHashing.canonical(table)
                let kinds = try await table.canonicalKinds()
                return (SQLiteWindowHashing(table: sqlite, encoder: .source(of: job, kinds: kinds)), targetSide)
            }
        case (.postgres(let postgres), .sqlite):
            let table = try SQLiteSource(path: spec.resolve(path: spec.target.location), table: spec.target.table ?? "", key: spec.key, range: spec.range)
                .selecting(job.columns)
            return try await across {
                let sourceSide = try await PostgresWindowHashing.written(postgres, intoSQLite: job.targetColumns.map(\.affinity))
                return (sourceSide, SQLiteWindowHashing(table: table, encoder: .target(of: job, kinds: nil)))
            }
        default:
            return HashedPaths()
        }
    }

    /// Both sides hashed by the canonical row encoding, or the reason they cannot be.
    private static func across(_ sides: () async throws -> (any WindowHashing, any WindowHashing)) async throws -> HashedPaths {
        do {
            let (source, target) = try await sides()
            return HashedPaths(comparer: WindowRangeComparer(source: source, target: target), differ: BucketRangeDiffer(source: source, target: target))
        } catch let unsupported as PostgresWindowHashing.Unsupported {
            return HashedPaths(rowPathReason: unsupported.reason)
        }
    }
}
