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
