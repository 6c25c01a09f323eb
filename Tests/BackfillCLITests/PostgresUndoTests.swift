import BackfillTesting
import Foundation
import Testing

/// `backfill undo RUN` against the real binary and a real PostgreSQL target.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(8)))
struct PostgresUndoTests {
    private func undo(_ workspace: PostgresWorkspace, _ arguments: [String]) async throws -> (Binary.Result, UndoJSON?) {
        try await UndoJSON.run(in: workspace.dir, arguments)
    }

    private func fingerprint(_ workspace: PostgresWorkspace, except: String) async throws -> String {
        try await workspace.server.psql(
            workspace.target, "SELECT count(*) || '|' || md5(string_agg(t::text, E'\\n' ORDER BY id)) FROM events t WHERE id NOT IN (\(except))")
    }

    /// The name of the target's one journal table.
    private func journalName(_ workspace: PostgresWorkspace) async throws -> String {
        try await workspace.server.psql(
            workspace.target, "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'backfill' AND relname LIKE 'journal%' AND relkind = 'r'")
    }

    @Test("run → undo puts the target back byte for byte except the rows live traffic changed since (conflicts, left alone); the undo is undone in turn")
    func runUndoAndUndoTheUndo() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 3_000, countWrites: false)
        try await workspace.server.psql(workspace.target, "DELETE FROM events WHERE id BETWEEN 1001 AND 2200")
        try workspace.writeSpec(extra: "journal: on")
        let before = try await fingerprint(workspace, except: "3, 7, 1500")
        let (first, report) = try await workspace.run()
        #expect(first.status == 0, "\(first.stderr)")
        let written = (report?["inserted"] ?? 0) + (report?["updated"] ?? 0)
        let afterRun = try await fingerprint(workspace, except: "3, 7, 1500")

        // A dry run counts and changes nothing.
        let (dry, preview) = try await undo(workspace, ["1", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(preview?.entries == written && preview?.wouldChange == written && preview?.conflicts == 0)
        #expect(preview?.restored == report?["updated"] && preview?.deleted == report?["inserted"] && preview?.reinserted == 0)
        #expect(try await fingerprint(workspace, except: "3, 7, 1500") == afterRun)

        // The gap's batches were COPYed straight in: one journal entry each.
        let copied = try await workspace.server.psql(workspace.target, "SELECT count(*) FROM backfill.\"\(try await journalName(workspace))\" WHERE backfill_op = 'c'")
        #expect(copied != "0")
        // Live traffic changes a row the run inserted (3), one it updated (7) and one it COPYed (1500).
        try await workspace.server.psql(workspace.target, "UPDATE events SET kind = 'live' WHERE id IN (3, 7, 1500)")
        let (undone, outcome) = try await undo(workspace, ["1"])
        #expect(undone.status == 3, "conflicts exit 3: \(undone.stderr)")
        #expect(outcome?.status == "completed" && outcome?.conflicts == 3)
        #expect(outcome?.conflictKeys.map { $0.compactMap { $0 } }.sorted { $0.lexicographicallyPrecedes($1) } == [["1500"], ["3"], ["7"]])
        #expect(outcome?.restored == (report?["updated"] ?? 0) - 1 && outcome?.deleted == (report?["inserted"] ?? 0) - 2)
        #expect(try await fingerprint(workspace, except: "3, 7, 1500") == before, "every other row is as before the run")
        #expect(try await workspace.server.psql(workspace.target, "SELECT string_agg(kind, ',' ORDER BY id) FROM events WHERE id IN (3, 7, 1500)") == "live,live,live")

        // Again: everything is already undone, the conflicts are still left alone.
        let (again, repeated) = try await undo(workspace, ["1"])
        #expect(again.status == 3 && repeated?.alreadyUndone == written - 3 && repeated?.restored == 0 && repeated?.deleted == 0)

        // The undo (run 3; run 2 was the dry run) is itself journaled: undoing it writes the run's rows again.
        let (redo, redone) = try await undo(workspace, ["3"])
        #expect(redo.status == 0, "\(redo.stderr)")
        #expect(redone?.conflicts == 0 && redone?.entries == written - 3)
        #expect(try await fingerprint(workspace, except: "3, 7, 1500") == afterRun)
    }

    @Test("a COPYed row another table still references is left alone (a conflict, named), the rest of its batch is taken back; a later write of a COPYed key is put back first")
    func copiedBatchWithAReferencedRow() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 3_000, countWrites: false)
        try await workspace.server.psql(workspace.target, "DELETE FROM events WHERE id BETWEEN 1001 AND 2200")
        try workspace.writeSpec(extra: "journal: on")
        let before = try await fingerprint(workspace, except: "1500")
        let (first, _) = try await workspace.run()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try await workspace.server.psql(workspace.target, "SELECT count(*) > 0 FROM backfill.\"\(try await journalName(workspace))\" WHERE backfill_op = 'c'") == "t")
        // The source changes a row the run COPYed and a second run writes it again (a `u` entry of
        // run 2); then another table comes to reference a COPYed row.
        try await workspace.server.psql(workspace.source, "UPDATE events SET kind = 'later' WHERE id = 1600")
        let (second, again) = try await workspace.run()
        #expect(second.status == 0 && again?["updated"] == 1, "\(second.stderr)")
        try await workspace.server.psql(workspace.target, """
            CREATE TABLE refs (event_id bigint REFERENCES events (id));
            INSERT INTO refs VALUES (1500);
            """)
        // Run 2 first: 1600 back as run 1 COPYed it; then run 1: every COPYed row but the referenced one.
        let (undo2, _) = try await undo(workspace, ["2"])
        #expect(undo2.status == 0, "\(undo2.stderr)")
        let (undone, outcome) = try await undo(workspace, ["1"])
        #expect(undone.status == 3, "the referenced row is a conflict: \(undone.stderr)")
        #expect(outcome?.conflicts == 1 && outcome?.conflictKeys == [["1500"]])
        #expect(try await workspace.server.psql(workspace.target, "SELECT count(*) FROM events WHERE id BETWEEN 1001 AND 2200") == "1")
        #expect(try await fingerprint(workspace, except: "1500") == before, "every other row is as before run 1")
    }

    @Test("kill -9 during the undo, then undo again: it resumes its own run and the target is as before the run")
    func killNineDuringUndo() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 12_000, countWrites: false)
        // A bounded rate: the undo (run 2, which keeps the run's spec) is killed between two of its
        // five batches.
        try workspace.writeSpec(extra: "journal: on\nlimits: { rows-per-second: 3000 }")
        let before = try await workspace.server.fingerprint(workspace.target, table: "events")
        let (first, report) = try await workspace.run()
        #expect(first.status == 0 && report?["inserted"] == 1_200 && report?["updated"] == 1_200, "\(first.stderr)")
        let state = workspace.dir + "/.backfill/state.db"
        let process = try Binary.launch(["undo", "1"], in: workspace.dir)
        try await RunLifecycleTests.killNine(process, state: state, onceRead: 400, run: 2)
        #expect(process.terminationReason == .uncaughtSignal)
        let partial = try Fixtures.integer(path: state, "SELECT coalesce(sum(read), 0) FROM chunks WHERE run_id = 2")
        #expect(partial < 2_400, "killed before the undo finished")

        let (undone, outcome) = try await undo(workspace, ["1"])
        #expect(undone.status == 0, "\(undone.stderr)")
        #expect(outcome?.conflicts == 0 && outcome?.entries == 2_400)
        #expect(try await workspace.server.fingerprint(workspace.target, table: "events") == before)
        #expect(try Fixtures.integer(path: state, "SELECT count(*) FROM runs") == 2, "the undo resumed its own run")
    }

    @Test("a verify --repair --delete-extra of a journaled job is journaled as JOB.repair, deletes included, and undone like any run")
    func undoARepair() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 2_000, countWrites: false)
        try await workspace.server.psql(
            workspace.target, "INSERT INTO events (id, account_id, kind, created_at, updated_at) SELECT g, 1, 'extra', now(), now() FROM generate_series(5001, 5005) g")
        try workspace.writeSpec(extra: "journal: on")
        let before = try await workspace.server.fingerprint(workspace.target, table: "events")
        let repair = try await Binary.run(["verify", "job.yaml", "--repair", "--delete-extra"], in: workspace.dir)
        #expect(repair.status == 0, "\(repair.stderr)")
        #expect(try await workspace.fingerprints().target == workspace.fingerprints().source)
        let (undone, outcome) = try await undo(workspace, ["1"])
        #expect(undone.status == 0, "\(undone.stderr)")
        #expect(outcome?.entries == 405 && outcome?.restored == 200 && outcome?.deleted == 200 && outcome?.reinserted == 5)
        #expect(try await workspace.server.fingerprint(workspace.target, table: "events") == before)
    }

    @Test("kill -9 during a journaled run, then run again: one entry per row written, none for what the kill rolled back, and the undo restores the target")
    func killNineDuringAJournaledRun() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 40_000, countWrites: false)
        try workspace.writeSpec(extra: "journal: on\nlimits: { rows-per-second: 8000 }")
        let before = try await workspace.server.fingerprint(workspace.target, table: "events")
        let process = try Binary.launch(["run", "job.yaml"], in: workspace.dir)
        let state = workspace.dir + "/.backfill/state.db"
        try await RunLifecycleTests.killNine(process, state: state, onceRead: 8_000)
        #expect(process.terminationReason == .uncaughtSignal)

        try workspace.writeSpec(extra: "journal: on")
        let (resumed, report) = try await workspace.run()
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(report?["inserted"] == 4_000 && report?["updated"] == 4_000)
        let names = try await workspace.server.psql(
            workspace.target, "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'backfill' AND relname LIKE 'journal%' AND relkind = 'r'")
        let journal = "backfill.\"\(names)\""
        #expect(try await workspace.server.psql(workspace.target, "SELECT count(*) || ',' || count(DISTINCT id) FROM \(journal)") == "8000,8000")

        let (undone, outcome) = try await undo(workspace, ["1"])
        #expect(undone.status == 0, "\(undone.stderr)")
        #expect(outcome?.entries == 8_000 && outcome?.conflicts == 0)
        #expect(try await workspace.server.fingerprint(workspace.target, table: "events") == before)
    }

    @Test("update-in-place is journaled and undone: the column it filled holds what it held before")
    func undoInPlace() async throws {
        let (server, database, dir) = try await PostgresInPlaceTests.workspace(rows: 3_000, extra: "journal: on")
        let before = try await server.fingerprint(database, table: "orders")
        let (first, report) = try await RunReport.run(in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let updated = try #require(report?["updated"])
        #expect(updated > 0)
        let result = try await Binary.run(["undo", "1", "--json"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let outcome = try JSONDecoder().decode(UndoJSON.self, from: Data(result.stdout.utf8))
        #expect(outcome.entries == updated && outcome.restored == updated && outcome.conflicts == 0)
        #expect(try await server.fingerprint(database, table: "orders") == before)
    }

    @Test("undo refuses what it cannot take back, exit 2 and nothing changed: an unknown run, a run without a journal")
    func refusals() async throws {
        let workspace = try await PostgresWorkspace.make(rows: 500, countWrites: false)
        try workspace.writeSpec(extra: "journal: off")
        let (first, _) = try await workspace.run()
        #expect(first.status == 0, "\(first.stderr)")
        let after = try await workspace.server.fingerprint(workspace.target, table: "events")
        let (unknown, _) = try await undo(workspace, ["42"])
        #expect(unknown.status == 2 && unknown.stderr.contains("no run 42"), "\(unknown.stderr)")
        let (unjournaled, _) = try await undo(workspace, ["1"])
        #expect(unjournaled.status == 2 && unjournaled.stderr.contains("not journaled"), "\(unjournaled.stderr)")
        #expect(try await workspace.server.fingerprint(workspace.target, table: "events") == after)
    }
}
