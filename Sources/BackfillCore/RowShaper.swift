/// Types source rows for the target's columns and rejects rows that cannot be written:
/// NULL keys, values a strict (text) source cannot convert, duplicate keys in unordered sources.
public struct RowShaper: Sendable {
    private let job: ResolvedJob
    private let strict: Bool
    private let affinities: [ColumnAffinity]

    public init(job: ResolvedJob, strict: Bool) {
        self.job = job
        self.strict = strict
        self.affinities = job.targetColumns.map(\.affinity)
    }

    /// Shapes one row, or returns why it cannot be written.
    public func shape(_ row: [Value]) -> Result<[Value], RowRejection> {
        // Built afresh: assigning into a copy of `row` (still held by the source's batch) would
        // copy it whole, retaining every value, before the first conversion.
        for index in job.keyIndices where row[index].isNull {
            return .failure(RowRejection(reason: "key column '\(job.columns[index])' is NULL"))
        }
        var shaped: [Value] = []
        shaped.reserveCapacity(row.count)
        for (index, value) in row.enumerated() {
            guard let converted = affinities[index].convert(value, strict: strict) else {
                let column = job.targetColumns[index]
                return .failure(RowRejection(
                    reason: "column '\(column.name)': value is not a valid \(column.declaredType.isEmpty ? "value" : column.declaredType)"))
            }
            if let reason = job.targetColumns[index].fit?.rejection(of: converted, convertedFrom: value) {
                return .failure(RowRejection(reason: "column '\(job.columns[index])': \(reason)"))
            }
            if converted.isNull, job.targetColumns[index].notNull {
                return .failure(RowRejection(reason: "column '\(job.columns[index])' is NULL but the target column is NOT NULL"))
            }
            shaped.append(converted)
        }
        return .success(shaped)
    }
}

/// Why a row was kept out of the target.
public struct RowRejection: Error, Sendable, Hashable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// Remembers the keys an unordered source (a file) has produced, to quarantine later duplicates.
///
/// Keeps one 64-bit hash per key (about 16 bytes a row), the one structure whose size grows
/// with the input; table sources need none because their key is unique.
public struct DuplicateKeyFilter: Sendable {
    private var seen: Set<UInt64> = []

    public init() {}

    /// `true` the first time a key of this hash (`RowDigest.hash` of its values) is seen.
    public mutating func insert(hash: UInt64) -> Bool {
        seen.insert(hash).inserted
    }
}
