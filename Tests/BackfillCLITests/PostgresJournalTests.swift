import BackfillTesting
import Foundation
import Testing

/// `journal:` on a PostgreSQL target: the before-image of every row a run changes, written with it.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresJournalTests {
    /// The journal tables in the target's schema `backfill`.
    private func journals(_ workspace: PostgresWorkspace) async throws -> [String] {
        try await workspace.server.psql(
            workspace.target,
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'backfill' AND relname LIKE 'journal%' AND relkind = 'r'"
        ).split(separator: "\n").map(String.init)
    }

    @Test(
        "a journaled run keeps each changed row's before-image and the hash of what it wrote; the journal alone restores the target byte for byte",
        arguments: [false, true])
    func beforeImagesRestoreTheTarget(stateInTarget: Bool) async throws {
        let workspace = try await PostgresWorkspace.make(rows: 3_000, countWrites: false)
        // Besides the scattered damage, a gap wide enough for whole batches to be COPYed straight in.
        try await workspace.server.psql(workspace.target, "DELETE FROM events WHERE id BETWEEN 1001 AND 2200")
        let missing = 3_000 - (Int(try await workspace.server.psql(workspace.target, "SELECT count(*) FROM events")) ?? 0)
        let state = stateInTarget ? "state: \"\(workspace.server.dsn(workspace.target))\"" : ""
        try workspace.writeSpec(extra: "journal: { keep: 7d }\n" + state)
        let before = try await workspace.server.fingerprint(workspace.target, table: "events")

        let (dry, _) = try await workspace.run(["--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try await journals(workspace).isEmpty, "a dry run creates no journal")

        let (first, report) = try await workspace.run()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(report?["inserted"] == missing && report?["updated"] == 180)
        let names = try await journals(workspace)
        let journal = "backfill.\"\(try #require(names.first))\""
        #expect(names.count == 1)
        // Rows by operation: a batch COPYed into the gap is one `c` entry with its keys.
        let rowsOf = "CASE WHEN backfill_op = 'c' THEN cardinality(backfill_keys) ELSE 1 END"
        let ops = try await workspace.server.psql(
            workspace.target,
            "SELECT string_agg(op || '=' || n, ',' ORDER BY op) FROM (SELECT replace(backfill_op, 'c', 'i') op, sum(\(rowsOf)) n FROM \(journal) WHERE backfill_run LIKE 'events/1@%' GROUP BY 1) c")
        #expect(ops == "i=\(missing),u=180")
        let copied = try await workspace.server.psql(
            workspace.target, "SELECT count(*) || ' ' || coalesce(sum(backfill_rows), 0) || ' ' || coalesce(bool_and(cardinality(backfill_keys) = backfill_rows AND cardinality(backfill_hashes) = backfill_rows), true) FROM \(journal) WHERE backfill_op = 'c'")
        #expect(copied.hasSuffix(" true") && !copied.hasPrefix("0 "), "the gap's batches are journaled one entry each: \(copied)")
        // Every entry's hash is the row as the run left it, a COPYed batch's too, key by key.
        let mismatched = try await workspace.server.psql(
            workspace.target, """
                SELECT (SELECT count(*) FROM \(journal) j LEFT JOIN events t ON t.id = j.id
                        WHERE j.backfill_op <> 'c' AND hash_record_extended(t.*, 0) IS DISTINCT FROM j.backfill_after)
                  + (SELECT count(*) FROM \(journal) j CROSS JOIN LATERAL unnest(j.backfill_keys::bigint[], j.backfill_hashes) k(id, h)
                     LEFT JOIN events t ON t.id = k.id WHERE j.backfill_op = 'c' AND hash_record_extended(t.*, 0) IS DISTINCT FROM k.h)
                """)
        #expect(mismatched == "0")
        #expect(try await workspace.fingerprints().target == workspace.fingerprints().source)

        let (second, rerun) = try await workspace.run()
        #expect(second.status == 0 && rerun?["unchanged"] == 3_000)
        #expect(
            try await workspace.server.psql(workspace.target, "SELECT sum(\(rowsOf)) FROM \(journal)") == "\(missing + 180)",
            "a rerun that writes nothing journals nothing")

        // Taken back with nothing but the journal: inserted keys deleted, updated rows put back.
        let columns = try await workspace.server.psql(
            workspace.target, "SELECT string_agg(format('%I = j.%I', attname, attname), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'events'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'id'")
        try await workspace.server.psql(workspace.target, """
            DELETE FROM events t USING \(journal) j WHERE j.backfill_op = 'i' AND t.id = j.id;
            DELETE FROM events t USING \(journal) j WHERE j.backfill_op = 'c' AND t.id = ANY(j.backfill_keys::bigint[]);
            UPDATE events t SET \(columns) FROM \(journal) j WHERE j.backfill_op = 'u' AND t.id = j.id;
            """)
        #expect(try await workspace.server.fingerprint(workspace.target, table: "events") == before)
    }

    @Test("backfill journal RUN lists what the run changed by key, counts and entries; a run without a journal exits 2")
    func listing() async throws {
        struct Listing: Decodable {
            struct Entry: Decodable { var seq: Int64; var op: String; var key: [String?] }
            var inserted: Int
            var updated: Int
            var deleted: Int
            var entries: [Entry]
        }
        let workspace = try await PostgresWorkspace.make(rows: 1_000, countWrites: false)
        try workspace.writeSpec(extra: "journal: on")
        let (first, _) = try await workspace.run()
        #expect(first.status == 0, "\(first.stderr)")
        let json = try await Binary.run(["journal", "1", "--limit", "150", "--json"], in: workspace.dir)
        #expect(json.status == 0, "\(json.stderr)")
        let listing = try JSONDecoder().decode(Listing.self, from: Data(json.stdout.utf8))
        #expect(listing.inserted == 100 && listing.updated == 100 && listing.deleted == 0)
        #expect(listing.entries.count == 150 && listing.entries.map(\.seq) == listing.entries.map(\.seq).sorted())
        // Damage: ids ending in 3 were missing (inserted), ids ending in 7 stale (updated).
        #expect(listing.entries.allSatisfy { entry in
            guard let id = entry.key.first??.last else { return false }
            return (entry.op == "i" && id == "3") || (entry.op == "u" && id == "7")
        })
        let text = try await Binary.run(["journal", "1", "--limit", "2"], in: workspace.dir)
        #expect(text.status == 0 && text.stdout.contains("inserted 100 · updated 100 · deleted 0") && text.stdout.contains("198 more"), "\(text.stdout)")

        try workspace.writeSpec(extra: "journal: off", name: "plain")
        let (plain, _) = try await workspace.run()
        #expect(plain.status == 0)
        let refused = try await Binary.run(["journal", "2"], in: workspace.dir)
        #expect(refused.status == 2 && refused.stderr.contains("not journaled"), "\(refused.stderr)")
    }

    @Test("update-existing is journaled too: only updates, each with its before-image")
    func updateExisting() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 2_000, countWrites: false)
        try workspace.writeSpec(extra: "mode: update-existing\njournal: on")
        let (result, report) = try await workspace.run()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report?["updated"] == 200 && report?["inserted"] == 0)
        let journal = "backfill.\"\(try #require(try await journals(workspace).first))\""
        #expect(try await workspace.server.psql(workspace.target, "SELECT string_agg(DISTINCT backfill_op, ',') || count(*) FROM \(journal)") == "u200")
        #expect(try await workspace.server.psql(
            workspace.target, "SELECT count(*) FROM \(journal) j WHERE j.kind <> 'stale' OR j.backfill_after IS NULL") == "0",
            "each entry holds the stale row it replaced")
    }

    @Test("keep: a journaled run deletes the entries of runs older than keep, and only those")
    func pruning() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 1_000, countWrites: false)
        try workspace.writeSpec(extra: "journal: { keep: 7d }")
        let (first, _) = try await workspace.run()
        #expect(first.status == 0, "\(first.stderr)")
        let journal = "backfill.\"\(try #require(try await journals(workspace).first))\""
        try await workspace.server.psql(workspace.target, "UPDATE \(journal) SET backfill_at = now() - interval '8 days'")
        try await workspace.server.psql(workspace.target, "UPDATE events SET kind = 'damaged again' WHERE id IN (5, 6)")
        let (second, _) = try await workspace.run()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try await workspace.server.psql(workspace.target, "SELECT string_agg(DISTINCT split_part(backfill_run, '@', 1), ',') || ':' || count(*) FROM \(journal)") == "events/2:2")
        // A run within keep stays.
        let (third, _) = try await workspace.run()
        #expect(third.status == 0)
        try await workspace.server.psql(workspace.target, "UPDATE events SET kind = 'damaged again' WHERE id = 9")
        let (fourth, _) = try await workspace.run()
        #expect(fourth.status == 0)
        #expect(try await workspace.server.psql(workspace.target, "SELECT string_agg(DISTINCT split_part(backfill_run, '@', 1), ',') || ':' || count(*) FROM \(journal)") == "events/2,events/4:3")
    }

    @Test("journal: is checked up front: a wrong value or key, and an events target (which keeps no journal), exit 2 naming it")
    func badJournalSpecs() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 10, countWrites: false)
        for (extra, message) in [
            ("journal: sometimes", "expected on, off or { keep: DURATION }"),
            ("journal: { keep: 2y }", "journal.keep"),
            ("journal: { keep: 1d, size: 3 }", "size"),
        ] {
            try workspace.writeSpec(extra: extra)
            let (result, _) = try await workspace.run()
            #expect(result.status == 2, "\(extra)")
            #expect(result.stderr.contains(message), "\(extra): \(result.stderr)")
        }
        try """
            name: events
            source: { postgres: "\(workspace.server.dsn(workspace.source))", table: events }
            target: { jsonl: sent.jsonl }
            mode: insert-missing
            events: { id: id }
            journal: on
            """.write(toFile: workspace.dir + "/job.yaml", atomically: true, encoding: .utf8)
        let (events, _) = try await workspace.run()
        #expect(events.status == 2 && events.stderr.contains("journal") && events.stderr.contains("keeps no journal"), "\(events.stderr)")
        #expect(try await journals(workspace).isEmpty)
    }
}
