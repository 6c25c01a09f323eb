import BackfillTesting
import Foundation
import Testing

/// The real binary against the real PostgreSQL server of `scripts/test.sh`.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresRunTests {
    @Test("PostgreSQL → PostgreSQL: every missing and stale row written once, counts add up, the rerun writes nothing")
    func repairsAndRerunsIdempotently() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 3_000)
        let (first, report) = try await workspace.run()
        #expect(first.status == 0, "\(first.stderr)")
        let counts = try #require(report)
        #expect(counts["read"] == 3_000)
        #expect(counts["inserted"] == 300)
        #expect(counts["updated"] == 300)
        #expect(counts["unchanged"] == 2_400)
        #expect(counts.balanced)
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
        let writes = try await workspace.server.psql(workspace.target, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes")
        #expect(writes == "600,600")

        let (second, rerun) = try await workspace.run()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(rerun?["unchanged"] == 3_000)
        #expect(rerun?["inserted"] == 0 && rerun?["updated"] == 0)
        #expect(try await workspace.server.psql(workspace.target, "SELECT count(*) FROM writes") == "600")

        // Chunks whose checksums match are not read; one changed row makes its chunk read again.
        try await workspace.server.psql(workspace.target, "UPDATE events SET amount = amount + 0.01 WHERE id = 1500")
        let (third, repaired) = try await workspace.run()
        #expect(third.status == 0, "\(third.stderr)")
        #expect(repaired?["updated"] == 1 && repaired?["unchanged"] == 2_999)
        #expect(try await workspace.fingerprints().target == workspace.fingerprints().source)
    }

    @Test("a dry run reports what it would write and writes nothing")
    func dryRunWritesNothing() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 1_000)
        let before = try await workspace.fingerprints().target
        let (result, report) = try await workspace.run(["--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report?["inserted"] == 100 && report?["updated"] == 100)
        #expect(try await workspace.fingerprints().target == before)
        #expect(try await workspace.server.psql(workspace.target, "SELECT count(*) FROM writes") == "0")
    }

    @Test("a row the target's constraint refuses is quarantined alone; the rest of its batch is written")
    func constraintViolationQuarantinesOnlyThatRow() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 2_000)
        try await workspace.server.psql(workspace.source, "UPDATE events SET kind = 'poison' WHERE id = 1234")
        try await workspace.server.psql(workspace.target, "ALTER TABLE events ADD CONSTRAINT no_poison CHECK (kind <> 'poison') NOT VALID")
        let (result, report) = try await workspace.run()
        let counts = try #require(report, "\(result.stderr)")
        #expect(counts["quarantined"] == 1)
        #expect(counts["read"] == 2_000)
        #expect(counts.balanced)
        let listed = try await Binary.run(["quarantine", "1"], in: workspace.dir)
        #expect(listed.stdout.contains("1234"))
        #expect(listed.stdout.contains("no_poison") || listed.stdout.contains("check constraint"))
        // Every other row now equals the source.
        let differing = try await workspace.server.psql(workspace.target, "SELECT count(*) FROM events WHERE kind = 'stale'")
        #expect(differing == "0")
        let (source, target) = (
            try await workspace.server.fingerprint(workspace.source, table: "(SELECT * FROM events WHERE id <> 1234)"),
            try await workspace.server.fingerprint(workspace.target, table: "(SELECT * FROM events WHERE id <> 1234)"))
        #expect(source == target)
    }

    @Test("kill -9 mid-run, then run again: the target equals the source and every damaged row was written once")
    func killNineThenResume() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 40_000, extra: "limits: { rows-per-second: 8000 }")
        let process = try Binary.launch(["run", "job.yaml"], in: workspace.dir)
        let state = workspace.dir + "/.backfill/state.db"
        try await RunLifecycleTests.killNine(process, state: state, onceRead: 8_000)
        #expect(process.terminationReason == .uncaughtSignal)
        let partial = try await workspace.server.psql(workspace.target, "SELECT count(*) FROM writes")
        #expect(Int(partial)! < 8_000)

        try workspace.writeSpec(extra: "")
        let (result, _) = try await workspace.run()
        #expect(result.status == 0, "\(result.stderr)")
        let (source, target) = try await workspace.fingerprints()
        #expect(source == target)
        let writes = try await workspace.server.psql(workspace.target, "SELECT count(*) || ',' || count(DISTINCT id) FROM writes")
        #expect(writes == "8000,8000")
    }

    @Test("newer-wins beside a live writer: no update the writer made is lost")
    func newerWinsKeepsLiveUpdates() async throws {
        let workspace = try await PostgresWorkspace.make(
            rows: 20_000, extra: "conflict: { newer-wins: updated_at }\nlimits: { rows-per-second: 10000 }", countWrites: false)
        let server = workspace.server, target = workspace.target
        let process = try Binary.launch(["run", "job.yaml"], in: workspace.dir)
        // The live application: while the backfill runs, it keeps updating rows (stale, missing-then-
        // inserted and equal ones) with a newer version.
        var round = 0
        while process.isRunning && round < 200 {
            round += 1
            try await server.psql(target, """
                UPDATE events SET kind = 'live', updated_at = now() + interval '1 year'
                WHERE id IN (SELECT (random() * 19999)::bigint + 1 FROM generate_series(1, 20));
                INSERT INTO events (id, account_id, kind, created_at, updated_at)
                VALUES (\(round * 10 + 3), 1, 'live', now(), now() + interval '1 year')
                ON CONFLICT (id) DO UPDATE SET kind = 'live', updated_at = EXCLUDED.updated_at;
                """)
        }
        await Binary.wait(process)
        #expect(process.terminationStatus == 0)
        let live = try await server.psql(target, "SELECT count(*) FROM events WHERE updated_at > now()")
        let kept = try await server.psql(target, "SELECT count(*) FROM events WHERE updated_at > now() AND kind = 'live'")
        #expect(Int(live)! > 0)
        #expect(live == kept, "a live update was overwritten by the backfill")
        let missing = try await server.psql(target, "SELECT 20000 - count(*) FROM events WHERE id <= 20000")
        #expect(missing == "0")
    }
}
