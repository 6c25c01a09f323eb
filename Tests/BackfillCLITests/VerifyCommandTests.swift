import BackfillTesting
import Foundation
import Testing

/// `backfill verify` through the real binary: exit 3 with every difference, exit 0 once repaired.
@Suite(.timeLimit(.minutes(6)))
struct VerifyCommandTests {
    @Test("verify exits 3 listing the differences of a damaged target, and 0 after the backfill")
    func verifyBeforeAndAfter() async throws {
        let dir = try Fixtures.temporaryDirectory("verify")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .composite, rows: 20_000)
        let damaged = try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try Fixtures.spec(kind: .composite).write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let before = try await Binary.run(["verify", "job.yaml", "--json", "--limit", "5"], in: dir)
        #expect(before.status == 3, "\(before.stderr)")
        struct Report: Decodable {
            var missing: Int, extra: Int, different: Int, newerInTarget: Int
            var differences: [Difference]
            struct Difference: Decodable { var kind: String; var columns: [String] }
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(before.stdout.utf8))
        #expect(report.missing + report.different == damaged)
        #expect(report.extra == 0)
        #expect(report.differences.count == 5)
        // Every difference listed, encoded a thousand at a time: still one JSON document.
        let all = try await Binary.run(["verify", "job.yaml", "--json", "--limit", "100000"], in: dir)
        #expect(all.status == 3, "\(all.stderr)")
        let listed = try JSONDecoder().decode(Report.self, from: Data(all.stdout.utf8))
        #expect(damaged > 2_000 && listed.differences.count == damaged)
        #expect(listed.differences.filter { $0.kind == "different" }.count == listed.different)
        #expect(!FileManager.default.fileExists(atPath: dir + "/.backfill"), "verify writes no state")
        let run = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(run.status == 0)
        let after = try await Binary.run(["verify", "job.yaml"], in: dir)
        #expect(after.status == 0)
        #expect(after.stdout.contains("EQUAL"))
        #expect(after.stdout.contains("source 20,000 rows · target 20,000 rows"))
    }

    @Test("verify --repair writes exactly the differing keys; extra rows go only with --delete-extra")
    func repairConverges() async throws {
        let dir = try Fixtures.temporaryDirectory("verify-repair")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .text, rows: 10_000)
        let damaged = try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try Fixtures.execute(path: dir + "/target.db", """
            INSERT INTO items VALUES ('zz-extra-1', 'x', 1, 1.0, NULL, '2026-01-01T00:00:00Z');
            INSERT INTO items VALUES ('zz-extra-2', 'y', 2, 2.0, NULL, '2026-01-01T00:00:00Z');
            """)
        try Fixtures.installWriteCounter(path: dir + "/target.db")
        try Fixtures.spec(kind: .text).write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let keep = try await Binary.run(["verify", "job.yaml", "--repair"], in: dir)
        #expect(keep.status == 3, "extra rows remain: \(keep.stderr)")
        #expect(keep.stdout.contains("2 rows only in the target kept"))
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT n FROM write_count") == damaged)
        let delete = try await Binary.run(["verify", "job.yaml", "--repair", "--delete-extra"], in: dir)
        #expect(delete.status == 0, "\(delete.stderr)")
        #expect(delete.stdout.contains("deleted 2 rows only in the target"))
        #expect(delete.stdout.contains("EQUAL"))
        #expect(try Fixtures.dump(path: dir + "/target.db", orderBy: "id") == Fixtures.dump(path: dir + "/source.db", orderBy: "id"))
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT n FROM write_count") == damaged, "nothing written twice")
    }

    @Test("verify.key-fields, spot-check and queries; the result is recorded on the run")
    func keyFieldsSpotChecksQueries() async throws {
        let dir = try Fixtures.temporaryDirectory("verify-extras")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .integer, rows: 5000)
        try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        let extra = """
            verify:
              key-fields: [amount]
              spot-check: 5000
              queries: { totals: "SELECT count(*), sum(amount) FROM items" }
            """
        try Fixtures.spec(kind: .integer, extra: extra).write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let before = try await Binary.run(["verify", "job.yaml", "--json"], in: dir)
        #expect(before.status == 3)
        // The key, the key field and the newer-wins version column.
        #expect(before.stdout.contains("\"columns\" : [\n    \"id\",\n    \"amount\",\n    \"updated_at\"\n  ]"))
        #expect(before.stdout.contains("\"name\" : \"totals\""))
        #expect(before.stdout.contains("\"spotChecked\" : 5000"))
        #expect(try await Binary.run(["run", "job.yaml"], in: dir).status == 0)
        // A change outside the key fields escapes the checksums but not a spot check of every column.
        try Fixtures.execute(path: dir + "/target.db", "UPDATE items SET name = 'renamed' WHERE id = 7")
        let renamed = try await Binary.run(["verify", "job.yaml", "--json"], in: dir)
        #expect(renamed.status == 3)
        #expect(renamed.stdout.contains("\"different\" : 0"))
        #expect(renamed.stdout.contains("\"columns\" : [\n        \"name\"\n      ]"))
        try Fixtures.execute(path: dir + "/target.db", "UPDATE items SET name = 'name 7' WHERE id = 7")
        let equal = try await Binary.run(["verify", "job.yaml", "--json"], in: dir)
        #expect(equal.status == 0, "\(equal.stdout)")
        #expect(equal.stdout.contains("\"result\" : \"equal\""))
        let status = try await Binary.run(["status", "1"], in: dir)
        #expect(status.stdout.contains("verified"))
        #expect(status.stdout.contains("EQUAL"))
    }

    @Test("run --verify: a row the source changed behind the run's cursor is found, repaired through the runner and proven equal; --json holds run, verification and repair; verify.after-run does the same; an events target is refused")
    func runEndsWithProof() async throws {
        let dir = try Fixtures.temporaryDirectory("run-verify")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .integer, rows: 4_000)
        _ = try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try Fixtures.spec(kind: .integer).write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let trial = try await Binary.run(["run", "job.yaml", "--limit", "1000"], in: dir)
        #expect(trial.status == 0, "\(trial.stderr)")
        // The application changes a row the run has already passed.
        try Fixtures.execute(path: dir + "/source.db", "UPDATE items SET name = 'changed', updated_at = '2030-01-01T00:00:00Z' WHERE id = 10")
        let proof = try await Binary.run(["run", "job.yaml", "--verify", "--json"], in: dir)
        #expect(proof.status == 0, "\(proof.stderr.suffix(2000))")
        struct Proof: Decodable {
            struct Run: Decodable { var status: String; var counters: [String: Int] }
            struct Verification: Decodable { var result: String; var sourceRows: Int; var targetRows: Int }
            var run: Run
            var verification: Verification
            var repair: Run?
        }
        let decoded = try JSONDecoder().decode(Proof.self, from: Data(proof.stdout.utf8))
        #expect(decoded.run.status == "completed" && decoded.verification.result == "equal" && decoded.verification.sourceRows == 4_000)
        #expect(decoded.repair?.status == "completed" && decoded.repair?.counters["updated"] == 1, "\(proof.stdout)")
        #expect(try Fixtures.text(path: dir + "/target.db", "SELECT name FROM items WHERE id = 10") == "changed")
        let status = try await Binary.run(["status", "--json"], in: dir)
        #expect(status.stdout.contains("\"equal\" : true") || status.stdout.contains("\"equal\":true"), "the verification is recorded on the run: \(status.stdout)")
        // One report holds the backfill, the verification and the repair between them.
        let report = try await Binary.run(["report", "1"], in: dir)
        #expect(report.status == 0 && report.stdout.contains("run 1  items  completed") && report.stdout.contains(": EQUAL"), "\(report.stdout)")
        #expect(
            report.stdout.contains("repaired    before it: verify found missing 0, extra 0, different 1; repair run 2 completed: inserted 0, updated 1, quarantined 0"),
            "\(report.stdout)")
        #expect(report.stdout.contains("repaired  verify found 0 missing, 0 extra, 1 different; repair run 2 completed"), "\(report.stdout)")
        struct Recorded: Decodable {
            struct Run: Decodable { var lastVerification: Verification? }
            struct Verification: Decodable { var equal: Bool; var repair: Repair? }
            struct Repair: Decodable { var runID: Int64; var foundDifferent: Int; var counters: [String: Int] }
            var run: Run
        }
        let recorded = try JSONDecoder().decode(Recorded.self, from: Data(try await Binary.run(["report", "1", "--json"], in: dir).stdout.utf8))
        let repair = try #require(recorded.run.lastVerification?.repair)
        #expect(recorded.run.lastVerification?.equal == true && repair.runID == 2 && repair.foundDifferent == 1 && repair.counters["updated"] == 1)

        // The same from the spec, on an equal target: nothing to repair, exit 0, text says EQUAL.
        try Fixtures.spec(kind: .integer, name: "items-again", extra: "verify: { after-run: true }")
            .write(toFile: dir + "/again.yaml", atomically: true, encoding: .utf8)
        let again = try await Binary.run(["run", "again.yaml"], in: dir)
        #expect(again.status == 0 && again.stdout.contains("EQUAL") && !again.stdout.contains("repair run"), "\(again.stdout)")

        try """
            name: events
            source: { sqlite: source.db, table: items }
            target: { jsonl: events.jsonl }
            key: [id]
            mode: insert-missing
            events: { id: id }
            """.write(toFile: dir + "/events.yaml", atomically: true, encoding: .utf8)
        let refused = try await Binary.run(["run", "events.yaml", "--verify"], in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("--verify compares a SQLite, PostgreSQL or MySQL table"), "\(refused.stderr)")
        let written = (try? FileManager.default.attributesOfItem(atPath: dir + "/events.jsonl")[.size] as? Int) ?? 0
        #expect(written == 0, "refused before any event was written")
    }
}
