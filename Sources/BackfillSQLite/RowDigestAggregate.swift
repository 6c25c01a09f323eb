import BackfillCore
import GRDB

/// `backfill_digest(col, …)`: the wrapping sum of `RowDigest.hash` over a query's rows, computed
/// inside SQLite so that verifying an equal range ships no rows, only two numbers.
struct RowDigestAggregate: DatabaseAggregate {
    private var sum: UInt64 = 0

    static let function = DatabaseFunction("backfill_digest", argumentCount: nil, pure: true, aggregate: Self.self)

    init() {}

    mutating func step(_ values: [DatabaseValue]) {
        sum = sum &+ RowDigest.hash(values.map(BackfillCore.Value.init))
    }

    func finalize() -> (any DatabaseValueConvertible)? {
        Int64(bitPattern: sum)
    }
}

/// `backfill_row_hash(col, …)`: `RowDigest.hash` of one row, the term `backfill_digest` sums, so
/// that a damaged range can be compared by keys and hashes without decoding its rows.
enum RowHashFunction {
    static let function = DatabaseFunction("backfill_row_hash", argumentCount: nil, pure: true) { values in
        Int64(bitPattern: RowDigest.hash(values.map(BackfillCore.Value.init)))
    }
}
