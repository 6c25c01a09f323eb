import BackfillTesting
import Foundation
import Testing

/// The journal and `backfill undo RUN` on a SQLite target, against the real binary: journaled by
/// default, through the attached transfer (SQLite → SQLite) and the row path (CSV → SQLite) alike.
@Suite(.timeLimit(.minutes(6)))
struct SQLiteUndoTests {
    /// The journal part of `report RUN --json`.
    struct JournalReport: Decodable {
        struct Summary: Decodable { var inserted: Int; var updated: Int; var deleted: Int; var bytes: Int }
        var journal: Summary?
    }

    /// How the rows travel: the attached transfer reads SQLite in SQLite; the row path reads a CSV export.
    enum Path: String, CaseIterable, CustomTestStringConvertible {
        case attached, rows
        var testDescription: String { rawValue }
    }

    static func undo(_ dir: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (Binary.Result, UndoJSON?) {
        try await UndoJSON.run(in: dir, arguments, environment: environment)
    }

    /// A source and its damaged copy as the target; with `.rows`, the source as a CSV file.
    /// - Returns: the directory, and how many target rows differ from the source.
    static func workspace(_ name: String, kind: KeyKind, rows: Int, path: Path, extra: String = "") throws -> (String, damaged: Int) {
        let dir = try Fixtures.temporaryDirectory(name)
        try Fixtures.makeSource(path: dir + "/source.db", kind: kind, rows: rows)
        let damaged = try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        var spec = Fixtures.spec(kind: kind, extra: extra)
        if path == .rows {
            try Fixtures.exportCSV(from: dir + "/source.db", to: dir + "/source.csv")
            spec = spec.replacingOccurrences(of: "source: { sqlite: source.db, table: items }", with: "source: { csv: source.csv }")
        }
        try spec.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        return (dir, damaged)
    }

    /// Every row of the target, as text with its storage classes, but for those with `keys`.
    static func target(_ dir: String, _ kind: KeyKind, without keys: [String] = []) throws -> [String] {
        try Fixtures.dump(path: dir + "/target.db", orderBy: kind.keyColumns.joined(separator: ", "))
            .filter { !keys.contains(key(of: $0, kind)) }
    }

    static func key(of row: String, _ kind: KeyKind) -> String {
        row.split(separator: "|").prefix(kind.keyColumns.count).joined(separator: "|")
    }

    @Test(
        "journaled by default: run → undo puts the target back value for value (storage classes included) except the rows a live writer changed since, which are left alone and named; the undo is undone in turn",
        arguments: KeyKind.allCases, Path.allCases)
    func runUndoAndUndoTheUndo(kind: KeyKind, path: Path) async throws {
        let (dir, _) = try Self.workspace("sqlite-undo", kind: kind, rows: 3_000, path: path)
        // Live traffic will change the 3rd row of the gap (inserted by the run) and the 29th row (updated by it).
        let order = kind.keyColumns.joined(separator: ", ")
        let livePick = "rowid IN (SELECT rowid FROM items ORDER BY \(order) LIMIT 1 OFFSET 902) OR rowid IN (SELECT rowid FROM items ORDER BY \(order) LIMIT 1 OFFSET 28)"
        let before = try Self.target(dir, kind)
        let first = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(first.status == 0, "\(first.stderr.suffix(2000))")
        let counters = try JSONDecoder().decode(RunReport.self, from: Data(first.stdout.utf8))
        let written = counters["inserted"] + counters["updated"]
        #expect(written > 0 && counters["updated"] > 0)
        #expect(try Fixtures.dump(path: dir + "/target.db", orderBy: order) == Fixtures.dump(path: dir + "/source.db", orderBy: order))
        let afterRun = try Self.target(dir, kind)

        let journal = try await Binary.run(["journal", "1", "--json", "--limit", "5"], in: dir)
        #expect(journal.status == 0 && journal.stdout.contains("\"inserted\" : \(counters["inserted"])"), "\(journal.stdout) \(journal.stderr)")
        let report = try await Binary.run(["report", "1", "--json"], in: dir)
        let journaled = try JSONDecoder().decode(JournalReport.self, from: Data(report.stdout.utf8)).journal
        #expect(journaled?.inserted == counters["inserted"] && journaled?.updated == counters["updated"] && (journaled?.bytes ?? 0) > 0)

        let (dry, preview) = try await Self.undo(dir, ["1", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(preview?.entries == written && preview?.wouldChange == written && preview?.conflicts == 0)
        #expect(preview?.restored == counters["updated"] && preview?.deleted == counters["inserted"] && preview?.reinserted == 0)
        #expect(try Self.target(dir, kind) == afterRun, "a dry run changes nothing")

        let liveKeys = try Fixtures.dump(path: dir + "/target.db", table: "(SELECT * FROM items WHERE \(livePick))", orderBy: order)
            .map { Self.key(of: $0, kind) }
        #expect(liveKeys.count == 2)
        try Fixtures.execute(path: dir + "/target.db", "UPDATE items SET note = 'live' WHERE \(livePick)")
        let (undone, outcome) = try await Self.undo(dir, ["1"])
        #expect(undone.status == 3, "conflicts exit 3: \(undone.stderr)")
        #expect(outcome?.status == "completed" && outcome?.conflicts == 2, "\(undone.stdout)")
        #expect(outcome?.conflictKeys.map { $0.map { $0 ?? "" }.joined(separator: "|") }.count == 2)
        #expect(outcome?.restored == counters["updated"] - 1 && outcome?.deleted == counters["inserted"] - 1)
        #expect(try Self.target(dir, kind, without: liveKeys) == before.filter { !liveKeys.contains(Self.key(of: $0, kind)) })
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM items WHERE note = 'live'") == 2, "the live rows are left alone")

        let (again, repeated) = try await Self.undo(dir, ["1"])
        #expect(again.status == 3 && repeated?.alreadyUndone == written - 2 && repeated?.restored == 0 && repeated?.deleted == 0)

        // The undo (run 3; run 2 was the dry run) is journaled: undoing it writes the run's rows again.
        let (redo, redone) = try await Self.undo(dir, ["3"])
        #expect(redo.status == 0, "\(redo.stderr)")
        #expect(redone?.conflicts == 0 && redone?.entries == written - 2)
        #expect(try Self.target(dir, kind, without: liveKeys) == afterRun.filter { !liveKeys.contains(Self.key(of: $0, kind)) })
    }

    @Test("kill -9 during a journaled run and during its undo: each resumes, the journal holds one entry per row written, and the target is as before the run")
    func killNineDuringRunAndUndo() async throws {
        let (dir, damaged) = try Self.workspace("sqlite-undo-kill", kind: .integer, rows: 20_000, path: .attached, extra: "limits: { rows-per-second: 2000 }")
        let before = try Self.target(dir, .integer)
        let state = dir + "/.backfill/state.db"
        let run = try Binary.launch(["run", "job.yaml"], in: dir)
        try await RunLifecycleTests.killNine(run, state: state, onceRead: 4_000, run: 1)
        #expect(run.terminationReason == .uncaughtSignal)
        try Fixtures.spec(kind: .integer).write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let resumed = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr.suffix(2000))")
        // Each damaged row journaled once. (The counters may count fewer rows written: a batch the
        // kill caught after its commit but before its checkpoint is redone and finds its rows equal.)
        let journal = try #require(try Fixtures.text(path: dir + "/target.db", "SELECT name FROM sqlite_master WHERE name LIKE 'backfill_journal_%' AND type = 'table'"))
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM \(journal)") == damaged)
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(DISTINCT id) FROM \(journal)") == damaged, "no row journaled twice")

        // The undo runs with the spec stored with the run, its rate limit included: it is killed between two batches.
        let undo = try Binary.launch(["undo", "1"], in: dir)
        try await RunLifecycleTests.killNine(undo, state: state, onceRead: 500, run: 2)
        #expect(undo.terminationReason == .uncaughtSignal)
        #expect(try Fixtures.integer(path: state, "SELECT coalesce(sum(read), 0) FROM chunks WHERE run_id = 2") < damaged, "killed before the undo finished")
        let (undone, outcome) = try await Self.undo(dir, ["1"])
        #expect(undone.status == 0, "\(undone.stderr)")
        #expect(outcome?.entries == damaged && outcome?.conflicts == 0)
        #expect(try Self.target(dir, .integer) == before)
        #expect(try Fixtures.integer(path: state, "SELECT count(*) FROM runs") == 2, "the undo resumed its own run")
    }

    @Test("verify --repair --delete-extra is journaled, deletes included, and undone; update-existing too")
    func undoARepairAndUpdateExisting() async throws {
        let (dir, _) = try Self.workspace("sqlite-undo-repair", kind: .text, rows: 2_000, path: .attached)
        try Fixtures.execute(path: dir + "/target.db", """
            INSERT INTO items SELECT 'extra-' || id, name, amount, price, note, updated_at FROM items LIMIT 5
            """)
        let before = try Self.target(dir, .text)
        let repair = try await Binary.run(["verify", "job.yaml", "--repair", "--delete-extra"], in: dir)
        #expect(repair.status == 0, "\(repair.stderr.suffix(2000))")
        #expect(try Fixtures.dump(path: dir + "/target.db") == Fixtures.dump(path: dir + "/source.db"))
        let (undone, outcome) = try await Self.undo(dir, ["1"])
        #expect(undone.status == 0, "\(undone.stderr)")
        #expect(outcome?.reinserted == 5 && outcome?.conflicts == 0 && (outcome?.restored ?? 0) > 0 && (outcome?.deleted ?? 0) > 0)
        #expect(try Self.target(dir, .text) == before)

        try Fixtures.spec(kind: .text, mode: "update-existing").write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let update = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(update.status == 0, "\(update.stderr.suffix(2000))")
        let counters = try JSONDecoder().decode(RunReport.self, from: Data(update.stdout.utf8))
        #expect(counters["updated"] > 0 && counters["inserted"] == 0)
        let (taken, back) = try await Self.undo(dir, ["3"])
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(back?.restored == counters["updated"] && back?.deleted == 0)
        #expect(try Self.target(dir, .text) == before)
    }

    @Test("keep: a journaled run deletes the entries of runs older than keep, and only those")
    func pruning() async throws {
        let (dir, _) = try Self.workspace("sqlite-undo-keep", kind: .integer, rows: 1_000, path: .attached, extra: "journal: { keep: 7d }")
        let first = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let journal = try #require(try Fixtures.text(path: dir + "/target.db", "SELECT name FROM sqlite_master WHERE name LIKE 'backfill_journal_%' AND type = 'table'"))
        let runs = "SELECT group_concat(run, ',') || ':' || sum(n) FROM (SELECT substr(backfill_run, 1, instr(backfill_run, '@') - 1) AS run, count(*) AS n FROM \"\(journal)\" GROUP BY 1 ORDER BY 1)"
        try Fixtures.execute(path: dir + "/target.db", "UPDATE \"\(journal)\" SET backfill_at = '2020-01-01T00:00:00Z'")
        try Fixtures.execute(path: dir + "/target.db", "UPDATE items SET note = 'damaged again' WHERE id IN (5, 6)")
        let second = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try Fixtures.text(path: dir + "/target.db", runs) == "items/2:2")
        try Fixtures.execute(path: dir + "/target.db", "UPDATE items SET note = 'damaged again' WHERE id = 9")
        let third = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(third.status == 0)
        #expect(try Fixtures.text(path: dir + "/target.db", runs) == "items/2,items/3:3", "a run within keep stays")
    }

    @Test("undo refuses what it cannot take back, exit 2 and nothing changed: an unknown run, journal: off, an events run, a spec whose target now names another database")
    func refusals() async throws {
        let (dir, _) = try Self.workspace("sqlite-undo-refusals", kind: .integer, rows: 500, path: .attached)
        try Fixtures.spec(kind: .integer, extra: "journal: off").write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let plain = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM sqlite_master WHERE name LIKE 'backfill_journal%'") == 0)
        let (unjournaled, _) = try await Self.undo(dir, ["1"])
        #expect(unjournaled.status == 2 && unjournaled.stderr.contains("not journaled"), "\(unjournaled.stderr)")
        let (unknown, _) = try await Self.undo(dir, ["42"])
        #expect(unknown.status == 2 && unknown.stderr.contains("no run 42"), "\(unknown.stderr)")

        // A target named by a variable: undone with the variable pointing at another copy.
        try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try FileManager.default.copyItem(atPath: dir + "/target.db", toPath: dir + "/other.db")
        try Fixtures.spec(kind: .integer, name: "named").replacingOccurrences(of: "sqlite: target.db", with: "sqlite: \"${TARGET_DB}\"")
            .write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let named = try await Binary.run(["run", "job.yaml"], in: dir, environment: ["TARGET_DB": "target.db"])
        #expect(named.status == 0, "\(named.stderr)")
        let other = try Fixtures.dump(path: dir + "/other.db")
        let (elsewhere, _) = try await Self.undo(dir, ["2"], environment: ["TARGET_DB": "other.db"])
        #expect(elsewhere.status == 2 && elsewhere.stderr.contains("holds no entry of run 2"), "\(elsewhere.stderr)")
        #expect(try Fixtures.dump(path: dir + "/other.db") == other)

        // Events sent cannot be taken back.
        try """
            name: sent
            source: { sqlite: source.db, table: items }
            target: { jsonl: events.jsonl }
            mode: insert-missing
            events: { id: id }
            """.write(toFile: dir + "/events.yaml", atomically: true, encoding: .utf8)
        let sent = try await Binary.run(["run", "events.yaml"], in: dir)
        #expect(sent.status == 0, "\(sent.stderr)")
        let (events, _) = try await Self.undo(dir, ["3"])
        #expect(events.status == 2 && events.stderr.contains("events sent cannot be taken back"), "\(events.stderr)")
        let onEvents = try await Binary.run(["validate", "events.yaml"], in: dir, environment: [:])
        #expect(onEvents.status == 0)
        try (try String(contentsOfFile: dir + "/events.yaml", encoding: .utf8) + "\njournal: on\n").write(toFile: dir + "/events.yaml", atomically: true, encoding: .utf8)
        let refused = try await Binary.run(["validate", "events.yaml"], in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("keeps no journal"), "\(refused.stderr)")
    }

    @Test("a column the target gained after a journaled run: the next run journals it too, and its undo puts the rows back")
    func targetGainsAColumn() async throws {
        let (dir, _) = try Self.workspace("sqlite-undo-column", kind: .integer, rows: 1_000, path: .attached)
        let first = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        try Fixtures.execute(path: dir + "/target.db", """
            ALTER TABLE items ADD COLUMN flag INTEGER DEFAULT 7;
            UPDATE items SET amount = -5, flag = 8 WHERE id IN (10, 20);
            """)
        let before = try Self.target(dir, .integer)
        let second = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try JSONDecoder().decode(RunReport.self, from: Data(second.stdout.utf8))["updated"] == 2)
        let (undone, outcome) = try await Self.undo(dir, ["2"])
        #expect(undone.status == 0, "\(undone.stderr)")
        #expect(outcome?.restored == 2 && outcome?.conflicts == 0)
        #expect(try Self.target(dir, .integer) == before, "the column the run did not write kept its values, the rows it did are back")
    }
}
