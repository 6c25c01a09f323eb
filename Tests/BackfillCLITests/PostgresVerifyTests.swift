import BackfillTesting
import Foundation
import Testing

/// `backfill verify` between two PostgreSQL tables.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresVerifyTests {
    /// The parts of `verify --json` the test reads.
    struct Report: Decodable {
        var result: String
        var missing: Int
        var extra: Int
        var different: Int
    }

    @Test("finds every missing, extra and different row by checksum bisection; --repair --delete-extra converges to equal")
    func findsAndRepairsDifferences() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 3_000, countWrites: false)
        let server = workspace.server
        try await server.psql(workspace.target, """
            INSERT INTO events (id, account_id, kind, created_at, updated_at) VALUES (9001, 1, 'extra', now(), now());
            UPDATE events SET payload = NULL WHERE id = 2001 AND payload IS NOT NULL;
            """)
        let found = try await Binary.run(["verify", "job.yaml", "--json"], in: workspace.dir)
        #expect(found.status == 3, "\(found.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(found.stdout.utf8))
        #expect(report.result == "different")
        #expect(report.missing == 300 && report.extra == 1 && report.different == 301, "\(found.stdout.prefix(400))")

        let repaired = try await Binary.run(["verify", "job.yaml", "--repair", "--delete-extra"], in: workspace.dir)
        #expect(repaired.status == 0, "\(repaired.stdout)\n\(repaired.stderr)")
        #expect(repaired.stdout.contains("deleted 1 rows only in the target"))
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
        let again = try await Binary.run(["verify", "job.yaml"], in: workspace.dir)
        #expect(again.status == 0 && again.stdout.contains("EQUAL"))
    }

    @Test("damage spread over a large table is compared by keys and row hashes (no rows shipped but the differing ones) and counted exactly, with the differing columns named")
    func spreadDamageByRowHashes() async throws {
        // 10% of 50,000 rows missing and 10% stale, everywhere: every range differs on both halves.
        let workspace = try await PostgresWorkspace.make(rows: 50_000, countWrites: false)
        try await workspace.server.psql(workspace.target, "UPDATE events SET payload = NULL WHERE id = 49999")
        let found = try await Binary.run(["verify", "job.yaml", "--json", "--limit", "100000"], in: workspace.dir)
        #expect(found.status == 3, "\(found.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(found.stdout.utf8))
        #expect(report.missing == 5_000 && report.extra == 0 && report.different == 5_001, "\(found.stdout.prefix(400))")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(found.stdout.utf8)) as? [String: Any])
        let differences = object["differences"] as? [[String: Any]] ?? []
        let columns = Set(differences.filter { $0["kind"] as? String == "different" }.map { ($0["columns"] as? [String] ?? []).joined(separator: ",") })
        #expect(columns == ["kind,amount,updated_at", "payload"] || columns == ["kind,updated_at", "kind,amount,updated_at", "payload"], "\(columns)")
        #expect((object["sourceRows"] as? Int) == 50_000 && (object["targetRows"] as? Int) == 45_000)
    }
}
