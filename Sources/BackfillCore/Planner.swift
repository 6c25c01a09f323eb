/// Decides how a source is cut into chunks; sources supply the key statistics.
public enum Planner {
    /// Rows per chunk: enough chunks to keep every worker busy (4 per worker), none smaller than
    /// 10,000 rows so per-chunk overhead stays negligible, none larger than 250,000 so a crash
    /// or a pause never strands much work.
    public static func rowsPerChunk(totalRows: Int, workers: Int) -> Int {
        let even = totalRows / Swift.max(1, Swift.min(workers, 1 << 20) * 4)
        return min(250_000, max(10_000, even))
    }

    /// Splits an integer key space `[min, max]` into chunks of about `rowsPerChunk` rows, assuming
    /// keys are spread evenly. The first chunk is open below and the last open above, so no row
    /// inside `bounds` can fall between chunks. Works on the whole `Int64` range: the span of
    /// `[Int64.min, Int64.max]` is 2^64, so edges are computed in 128-bit integers.
    public static func splitIntegers(min: Int64, max: Int64, totalRows: Int, workers: Int, bounds: KeyRange) -> [ChunkPlan] {
        let perChunk = rowsPerChunk(totalRows: totalRows, workers: workers)
        let count = Swift.max(1, totalRows / perChunk + (totalRows % perChunk == 0 ? 0 : 1))
        let low = Int128(Swift.min(min, max)), span = Int128(Swift.max(min, max)) - low + 1
        var edges: [Int64] = []
        for i in 1..<Swift.max(1, count) {
            let edge = Int64(low + span * Int128(i) / Int128(count))
            if edge > (edges.last ?? min) { edges.append(edge) }
        }
        return chunks(between: edges.map { [.integer($0)] }, totalRows: totalRows, bounds: bounds)
    }

    /// How many keys `[min, max]` holds, clamped to `Int.max` (the span of the whole `Int64` range
    /// is 2^64, which no `Int` holds).
    public static func keySpan(min: Int64, max: Int64) -> Int {
        guard max >= min else { return 0 }
        return Int(clamping: Int128(max) - Int128(min) + 1)
    }

    /// Builds chunks whose boundaries are `edges` (sorted keys), within `bounds`.
    public static func chunks(between edges: [[Value]], totalRows: Int, bounds: KeyRange) -> [ChunkPlan] {
        var plans: [ChunkPlan] = []
        var lower = bounds.lower
        let estimate = totalRows / (edges.count + 1)
        for (index, edge) in edges.enumerated() {
            plans.append(ChunkPlan(index: index, range: KeyRange(lower: lower, upper: edge), estimatedRows: estimate))
            lower = edge
        }
        let rest = totalRows - estimate * edges.count
        plans.append(ChunkPlan(index: edges.count, range: KeyRange(lower: lower, upper: bounds.upper), estimatedRows: rest))
        return plans
    }
}

extension Planner {
    /// The chunks a run of `spec` reads from `source`: the source's plan for the job's workers —
    /// except that an events job's key ranges are one chunk. Its one worker reads in order, and
    /// its `EventFlow` lives as long as a chunk: a chunk's end waits for its slowest order key
    /// (say, one in a 429's `Retry-After`) before the next chunk is read. Export parts stay a
    /// chunk each (each has its own cursor).
    public static func chunks(of source: any Source, for spec: JobSpec) async throws -> [ChunkPlan] {
        let chunks = try await source.plan(workers: spec.workers)
        guard spec.events != nil, chunks.count > 1, chunks.allSatisfy({ $0.range.part == nil }), let first = chunks.first, let last = chunks.last
        else { return chunks }
        return [ChunkPlan(
            index: first.index, range: KeyRange(lower: first.range.lower, upper: last.range.upper),
            estimatedRows: chunks.reduce(0) { $0 + $1.estimatedRows })]
    }
}
