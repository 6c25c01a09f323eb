import BackfillCore
import Foundation
import Testing

@Suite struct ValueTests {
    @Test func ordersLikeSQLite() {
        let sorted: [Value] = [.null, .integer(-1), .real(0.5), .integer(1), .text("A"), .text("a"), .blob([0])]
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            #expect(Value.compare(a, b) < 0, "\(a) < \(b)")
        }
        #expect(KeyOrder.compare([.integer(1), .integer(2)], [.integer(1), .integer(10)]) < 0)
    }

    @Test func integerAndRealAreTheSameStoredValue() {
        #expect(Value.integer(1).isSameStoredValue(as: .real(1.0)))
        #expect(!Value.integer(1).isSameStoredValue(as: .text("1")))
        #expect(RowDigest.hash([.integer(3)]) == RowDigest.hash([.real(3.0)]))
        #expect(RowDigest.hash([.null]) != RowDigest.hash([.text("")]))
    }

    @Test func textIsComparedByteForByte() {
        let composed = Value.text("caf\u{E9}")
        let decomposed = Value.text("cafe\u{301}")
        #expect(!composed.isSameStoredValue(as: decomposed), "canonically equivalent, but stored differently")
        #expect(RowDigest.hash([composed]) != RowDigest.hash([decomposed]))
    }

    @Test func strictTypingRejectsWhatTheColumnCannotHold() {
        let integer = ColumnAffinity(declaredType: "BIGINT")
        #expect(integer.convert(.text("42"), strict: true) == .integer(42))
        #expect(integer.convert(.text("abc"), strict: true) == nil)
        #expect(integer.convert(.text("abc"), strict: false) == .text("abc"))
        #expect(ColumnAffinity(declaredType: "REAL").convert(.text("2"), strict: true) == .real(2))
        #expect(ColumnAffinity(declaredType: "VARCHAR(20)").convert(.integer(7), strict: true) == .text("7"))
        #expect(ColumnAffinity(declaredType: "NUMERIC").convert(.text("2.5"), strict: true) == .real(2.5))
    }

    @Test func cursorsSurviveJSON() throws {
        let cursor = Cursor(key: [.integer(1), .text("a"), .real(1.5), .null, .blob([1, 2])])
        let data = try JSONEncoder().encode(cursor)
        #expect(try JSONDecoder().decode(Cursor.self, from: data) == cursor)
    }

    @Test func planSplitsIntegerKeysWithoutGaps() {
        let chunks = Planner.splitIntegers(min: 1, max: 1_000_000, totalRows: 1_000_000, workers: 2, bounds: .all)
        #expect(chunks.count == 8)
        #expect(chunks.first?.range.lower == nil)
        #expect(chunks.last?.range.upper == nil)
        for (a, b) in zip(chunks, chunks.dropFirst()) { #expect(a.range.upper == b.range.lower) }
        #expect(chunks.reduce(0) { $0 + $1.estimatedRows } == 1_000_000)
    }

    @Test func countersBalance() {
        var counters = Counters(read: 10, outcome: WriteOutcome(inserted: 3, updated: 2, unchanged: 4, skipped: 0), quarantined: 1)
        #expect(counters.isBalanced)
        counters.read += 1
        #expect(!counters.isBalanced)
    }
}
