/// Finds the row position of a JSON key among the wanted columns: exact name first, then ignoring case.
struct ColumnLookup: Sendable {
    private let exact: [String: Int]
    private let folded: [String: Int]

    init(columns: [String]) {
        var exact: [String: Int] = [:]
        var folded: [String: Int] = [:]
        for (position, column) in columns.enumerated() {
            if exact[column] == nil { exact[column] = position }
            if folded[column.lowercased()] == nil { folded[column.lowercased()] = position }
        }
        self.exact = exact
        self.folded = folded
    }

    func position(of key: String) -> Int? {
        exact[key] ?? folded[key.lowercased()]
    }
}
