/// A source limited to a list of keys (the differences `verify --repair` found), read in key order
/// from the source of truth by key, so that a repair goes through the normal runner and all its
/// controls.
public struct KeyListSource: Source {
    private let base: any Source
    private let keys: [[Value]]
    public let keyIndices: [Int]

    /// - Parameters:
    ///   - keyIndices: positions of the key columns in `base.columns`.
    public init(base: any Source, keys: [[Value]], keyIndices: [Int]) {
        self.base = base
        self.keys = keys.sorted { KeyOrder.compare($0, $1) < 0 }
        self.keyIndices = keyIndices
    }

    public var columns: [String] { base.columns }
    public var valuesAreText: Bool { base.valuesAreText }
    public var isKeyOrdered: Bool { true }

    public func describe() async throws -> TableDescription { try await base.describe() }
    public func checkKey() async throws {}

    public func plan(workers: Int) async throws -> [ChunkPlan] {
        [ChunkPlan(index: 0, range: .all, estimatedRows: keys.count)]
    }

    public func read(chunk: KeyRange, after cursor: Cursor?, limit: Int) async throws -> SourceBatch {
        var start = 0
        if let after = cursor?.key {
            // The first key after the cursor, by binary search over the sorted keys.
            var high = keys.count
            while start < high {
                let middle = (start + high) / 2
                if KeyOrder.compare(keys[middle], after) > 0 { high = middle } else { start = middle + 1 }
            }
        }
        let slice = Array(keys[start..<min(start + limit, keys.count)])
        guard let rows = try await base.fetch(keys: slice) else {
            throw BackfillError(.invalidInput, "this source cannot look rows up by key; repair needs a table source")
        }
        let keyIndices = self.keyIndices
        let sorted = rows.sorted { left, right in
            KeyOrder.compare(keyIndices.map { left[$0] }, keyIndices.map { right[$0] }) < 0
        }
        let isLast = start + slice.count >= keys.count
        return SourceBatch(rows: sorted, cursor: slice.last.map { Cursor(key: $0) } ?? cursor, isLast: isLast)
    }

    public func probe(_ query: String) async throws -> Double { try await base.probe(query) }
    public func fetch(keys: [[Value]]) async throws -> [[Value]]? { try await base.fetch(keys: keys) }
}
