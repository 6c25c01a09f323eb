/// Decides, for each incoming row, what a write must do given the target's current row: the one
/// set of rules of every table sink (missing rows, equal rows, the modes, `newer-wins`).
public struct RowClassifier: Sendable {
    public enum Action: Sendable { case insert, update, unchanged, skip }

    public let mode: WriteMode
    public let versionIndex: Int?
    /// How each column's values are compared, where the engine prints values its own way (MySQL's
    /// `1.50` for a DECIMAL's `1.5`): in their canonical form. `nil`: as stored (SQLite).
    public let kinds: [CanonicalKind]?

    public init(mode: WriteMode, versionIndex: Int?, kinds: [CanonicalKind]? = nil) {
        self.mode = mode
        self.versionIndex = versionIndex
        self.kinds = kinds
    }

    public func classify(_ row: [Value], existing: [Value]?) -> Action {
        guard let existing else { return mode == .updateExisting ? .skip : .insert }
        var same = true
        for index in row.indices where !compared(row, index).isSameStoredValue(as: compared(existing, index)) {
            same = false
            break
        }
        if same { return .unchanged }
        if mode == .insertMissing { return .skip }
        if let versionIndex, Value.compare(compared(existing, versionIndex), compared(row, versionIndex)) > 0 { return .skip }
        return .update
    }

    /// The value of `row`'s column `index` as compared.
    private func compared(_ row: [Value], _ index: Int) -> Value {
        kinds.map { $0[index].canonical(row[index]) } ?? row[index]
    }
}
