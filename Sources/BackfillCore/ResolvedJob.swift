/// A spec checked against the real source and target: the columns that travel and how to type them.
public struct ResolvedJob: Sendable {
    public var spec: JobSpec
    /// The columns each row carries, in order; the key columns are among them.
    public var columns: [String]
    /// Positions of the key columns in `columns`, in key order.
    public var keyIndices: [Int]
    /// Position of the `newer-wins` column in `columns`.
    public var versionIndex: Int?
    /// The target's description of each of `columns`, for typing values.
    public var targetColumns: [ColumnDescription]

    public init(spec: JobSpec, columns: [String], targetColumns: [ColumnDescription]) {
        self.spec = spec
        self.columns = columns
        let lowered = columns.map { $0.lowercased() }
        self.keyIndices = spec.key.compactMap { lowered.firstIndex(of: $0.lowercased()) }
        self.versionIndex = spec.newerWins.flatMap { lowered.firstIndex(of: $0.lowercased()) }
        self.targetColumns = targetColumns
    }

    /// The key values of a row.
    public func key(of row: [Value]) -> [Value] { keyIndices.map { row[$0] } }
}
