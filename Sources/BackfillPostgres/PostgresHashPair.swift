import BackfillCore

/// Two PostgreSQL tables whose rows hash alike inside their servers: both declare the same types
/// for the job's columns and the spec has no `range.where` (the target cannot evaluate the source's
/// filter). What the chunk comparer and the batch differ share.
struct PostgresHashPair: Sendable {
    let sourceInfo: PostgresTableInfo
    let key: [String]
    let sourceSQL: PostgresKeysetSQL
    let targetSQL: PostgresKeysetSQL

    /// `nil` when the two tables' rows cannot be compared by hash.
    static func make(source: PostgresSource, target: PostgresSink, job: ResolvedJob) async throws -> PostgresHashPair? {
        guard job.spec.range.whereClause == nil else { return nil }
        let sourceInfo = try await source.tableInfo()
        let targetInfo = try await target.tableInfo()
        for column in job.columns {
            guard let type = sourceInfo.type(of: column), type == targetInfo.type(of: column) else { return nil }
        }
        let key = job.keyIndices.map { job.columns[$0] }
        let keyTypes = sourceInfo.castTypes(of: key)
        return PostgresHashPair(
            sourceInfo: sourceInfo, key: key,
            sourceSQL: PostgresKeysetSQL(table: source.table, columns: key, key: key, keyTypes: keyTypes, whereClause: nil),
            targetSQL: PostgresKeysetSQL(table: target.table, columns: key, key: key, keyTypes: keyTypes, whereClause: nil))
    }
}
