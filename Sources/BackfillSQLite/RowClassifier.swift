import BackfillCore

/// Decides, for each incoming row, what a write must do given the target's current row.
struct RowClassifier: Sendable {
    enum Action { case insert, update, unchanged, skip }

    let mode: WriteMode
    let versionIndex: Int?

    func classify(_ row: [Value], existing: [Value]?) -> Action {
        guard let existing else { return mode == .updateExisting ? .skip : .insert }
        var same = true
        for index in row.indices where !row[index].isSameStoredValue(as: existing[index]) {
            same = false
            break
        }
        if same { return .unchanged }
        if mode == .insertMissing { return .skip }
        if let versionIndex, Value.compare(existing[versionIndex], row[versionIndex]) > 0 { return .skip }
        return .update
    }
}
