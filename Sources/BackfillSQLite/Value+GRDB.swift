import BackfillCore
import Foundation
import GRDB

extension Value {
    /// The value of a GRDB database value.
    init(_ databaseValue: DatabaseValue) {
        switch databaseValue.storage {
        case .null: self = .null
        case .int64(let v): self = .integer(v)
        case .double(let v): self = .real(v)
        case .string(let v): self = .text(v)
        case .blob(let v): self = .blob(Array(v))
        }
    }

    /// The GRDB database value to bind.
    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let v): return v.databaseValue
        case .real(let v): return v.databaseValue
        case .text(let v): return v.databaseValue
        case .blob(let v): return Data(v).databaseValue
        }
    }
}

extension StatementArguments {
    /// Arguments binding `values` in order.
    init(values: some Sequence<BackfillCore.Value>) {
        self.init(values.map { $0.databaseValue as (any DatabaseValueConvertible)? })
    }
}

extension Row {
    /// The row's values in column order.
    var values: [BackfillCore.Value] {
        var result: [BackfillCore.Value] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            let databaseValue: DatabaseValue = self[index]
            result.append(BackfillCore.Value(databaseValue))
        }
        return result
    }
}
