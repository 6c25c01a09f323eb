import BackfillCore
import BackfillSQLite
import BackfillTesting
import Foundation
import Testing

/// `range.where` and `range.from`/`range.to` select exactly the rows they name, on both write paths.
@Suite(.timeLimit(.minutes(2)))
struct RangeTests {
    @Test("range.from/to replays exactly the keys in [from, to)", arguments: WritePath.allCases)
    func keyBounds(path: WritePath) async throws {
        let harness = try JobHarness(kind: .composite, rows: 3000, path: path)
        try Fixtures.execute(path: harness.targetPath, "DELETE FROM items")
        let summary = try await harness.run(extra: "range: { from: [2, 100], to: [3, 0] }")
        let expected = try Fixtures.integer(path: harness.sourcePath, "SELECT count(*) FROM items WHERE (tenant, id) >= (2, 100) AND tenant < 3")
        #expect(summary.counters.read == expected)
        #expect(summary.counters.inserted == expected)
        #expect(try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items WHERE (tenant, id) < (2, 100) OR tenant >= 3") == 0)
        #expect(try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items") == expected)
    }

    @Test("range.where filters source rows", arguments: WritePath.allCases)
    func whereClause(path: WritePath) async throws {
        let harness = try JobHarness(kind: .text, rows: 3000, path: path)
        try Fixtures.execute(path: harness.targetPath, "DELETE FROM items")
        let summary = try await harness.run(extra: "range: { where: \"amount < 100 AND note IS NOT NULL\" }")
        let expected = try Fixtures.integer(path: harness.sourcePath, "SELECT count(*) FROM items WHERE amount < 100 AND note IS NOT NULL")
        #expect(expected > 0)
        #expect(summary.counters.read == expected)
        #expect(try Fixtures.integer(path: harness.targetPath, "SELECT count(*) FROM items") == expected)
        #expect(summary.balanced)
    }
}
