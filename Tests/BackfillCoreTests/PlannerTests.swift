import BackfillCore
import PropertyBased
import Testing

/// Key arithmetic over the whole `Int64` range: planning never overflows, and its chunks tile the
/// key space in order.
@Suite struct PlannerTests {
    /// Edges strictly increasing and inside `(min, max]`, first chunk open below, last open above.
    func checkTiling(_ plans: [ChunkPlan], min: Int64, max: Int64, totalRows: Int) {
        #expect(plans.first?.range.lower == nil)
        #expect(plans.last?.range.upper == nil)
        var previous: Int64?
        for (plan, next) in zip(plans, plans.dropFirst()) {
            guard case .integer(let edge) = plan.range.upper?.first else {
                Issue.record("a chunk before the last has no integer upper bound: \(plan.range)")
                return
            }
            #expect(next.range.lower == plan.range.upper)
            #expect(edge > min && edge <= max, "edge \(edge) outside (\(min), \(max)]")
            if let previous { #expect(edge > previous) }
            previous = edge
        }
        #expect(plans.reduce(0) { $0 + $1.estimatedRows } == totalRows)
    }

    @Test(arguments: [
        (Int64(0), Int64.max), (Int64(-1), Int64.max - 1), (Int64.min, Int64.max), (Int64.min, Int64(0)),
        (Int64.max - 1, Int64.max), (Int64(5), Int64(5)),
    ])
    func widestKeySpansPlanWithoutOverflow(min: Int64, max: Int64) {
        let plans = Planner.splitIntegers(min: min, max: max, totalRows: 2_000_000, workers: 2, bounds: .all)
        checkTiling(plans, min: min, max: max, totalRows: 2_000_000)
        #expect(Planner.keySpan(min: min, max: max) >= 1)
    }

    @Test func keySpanClampsTheWholeRange() {
        #expect(Planner.keySpan(min: .min, max: .max) == Int.max)
        #expect(Planner.keySpan(min: 0, max: .max) == Int.max)
        #expect(Planner.keySpan(min: -1, max: 1) == 3)
        #expect(Planner.keySpan(min: 2, max: 1) == 0)
    }

    @Test func anyIntegerRangeSplitsIntoOrderedChunks() async {
        await propertyCheck(count: 500, input: Gen.int64(), Gen.int64(), Gen.int(in: 0...5_000_000), Gen.int(in: 1...64)) { a, b, rows, workers in
            let (low, high) = (Swift.min(a, b), Swift.max(a, b))
            let total = Swift.min(rows, Planner.keySpan(min: low, max: high))
            let plans = Planner.splitIntegers(min: low, max: high, totalRows: total, workers: workers, bounds: .all)
            checkTiling(plans, min: low, max: high, totalRows: total)
        }
    }

    @Test func compositeKeysOrderLexicographically() async {
        await propertyCheck(count: 300, input: Gen.int64(), Gen.int64(), Gen.int64(), Gen.int64()) { a, b, c, d in
            let left: [Value] = [.integer(a), .integer(b)], right: [Value] = [.integer(c), .integer(d)]
            let expected = a != c ? (a < c ? -1 : 1) : (b < d ? -1 : (b == d ? 0 : 1))
            #expect(KeyOrder.compare(left, right) == expected)
            #expect(KeyOrder.compare(right, left) == -expected)
        }
    }
}
