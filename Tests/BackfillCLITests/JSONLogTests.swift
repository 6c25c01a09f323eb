import BackfillTesting
import Foundation
import Testing

@Suite(.timeLimit(.minutes(6)))
struct JSONLogTests {
    @Test("--log-format json: every line on standard error is one JSON object; batches carry run, chunk and counters as numbers")
    func jsonLines() async throws {
        let (dir, damaged) = try RunLifecycleTests.workspace(kind: .integer, rows: 3_000)
        let result = try await Binary.run(["run", "job.yaml", "--log-format", "json", "--log-level", "debug"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(!lines.isEmpty && objects.count == lines.count, "every line is a JSON object")
        #expect(objects.allSatisfy { $0["ts"] is String && $0["level"] is String && $0["message"] is String })
        let batches = objects.filter { $0["message"] as? String == "batch committed" }
        #expect(!batches.isEmpty)
        #expect(batches.allSatisfy { $0["backfill.run"] as? Int == 1 && $0["backfill.chunk"] is Int && $0["backfill.batch.rows"] is Int })
        let finished = try #require(objects.first { $0["message"] as? String == "run finished" })
        #expect(finished["backfill.rows.read"] as? Int == 3_000)
        #expect((finished["backfill.rows.inserted"] as? Int ?? 0) + (finished["backfill.rows.updated"] as? Int ?? 0) == damaged)

        let bad = try await Binary.run(["run", "job.yaml", "--log-format", "xml"], in: dir)
        #expect(bad.status == 2)
    }
}
