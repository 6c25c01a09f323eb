import BackfillTesting
import Foundation
import Testing

/// The bad-input corpus: every case exits 2 with a message that names the problem, and leaves the
/// target and the state store untouched.
@Suite(.timeLimit(.minutes(6)))
struct BadInputTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var spec: String
        var expected: [String]
        var prepare: @Sendable (String) throws -> Void = { _ in }
        var description: String { name }
    }

    static let good = Fixtures.spec(kind: .integer)

    static let cases: [Case] = [
        Case(name: "malformed YAML", spec: "name: [unclosed\nkey: id\n", expected: ["job.yaml:", "malformed YAML"]),
        Case(name: "empty spec", spec: "", expected: ["the spec is empty"]),
        Case(name: "unknown top-level key", spec: good + "batchsize: 10\n", expected: ["job.yaml:9", "unknown key 'batchsize'"]),
        Case(
            name: "unknown nested key with a suggestion",
            spec: good.replacingOccurrences(of: "table: items }\ntarget", with: "tabel: items }\ntarget"),
            expected: ["job.yaml:2", "unknown key 'tabel'", "did you mean 'table'"]),
        Case(name: "wrong type", spec: good.replacingOccurrences(of: "workers: 2", with: "workers: many"), expected: ["job.yaml:8", "workers: expected a whole number"]),
        Case(name: "missing required key", spec: good.replacingOccurrences(of: "key: [id]\n", with: ""), expected: ["missing required key 'key'"]),
        Case(name: "invalid mode", spec: good.replacingOccurrences(of: "mode: upsert", with: "mode: merge"), expected: ["job.yaml:5", "unknown mode 'merge'"]),
        Case(name: "batch min above max", spec: good.replacingOccurrences(of: "batch: { size: 500 }", with: "batch: { min: 900, max: 100 }"), expected: ["min (900) is larger than max (100)"]),
        Case(name: "unknown column", spec: good + "columns: [id, name, nope]\n", expected: ["job.yaml:9", "column 'nope' is not in source table 'items'"]),
        Case(name: "missing source file", spec: good.replacingOccurrences(of: "sqlite: source.db", with: "sqlite: nowhere.db"), expected: ["job.yaml:2", "nowhere.db", "cannot open SQLite database"]),
        Case(name: "missing target table", spec: good.replacingOccurrences(of: "target: { sqlite: target.db, table: items }", with: "target: { sqlite: target.db, table: missing }"), expected: ["no table 'missing'"]),
        // A hostile name is only a name: quoted, it names no table, and nothing is dropped.
        Case(name: "hostile table name", spec: good.replacingOccurrences(of: "target: { sqlite: target.db, table: items }", with: "target: { sqlite: target.db, table: \"items; DROP TABLE items\" }"), expected: ["no table 'items; DROP TABLE items'"]),
        Case(
            name: "hostile table name with a quote and a combining mark",
            spec: good.replacingOccurrences(of: "target: { sqlite: target.db, table: items }", with: "target: { sqlite: target.db, table: \"items\\\"\u{301}; DROP TABLE items; --\" }"),
            expected: ["no table 'items\"\u{301}; DROP TABLE items; --'"]),
        Case(name: "table name with a control character", spec: good.replacingOccurrences(of: "target: { sqlite: target.db, table: items }", with: "target: { sqlite: target.db, table: \"it\\tems\" }"), expected: ["job.yaml:3", "invalid table name"]),
        Case(name: "SQLite table with a schema", spec: good.replacingOccurrences(of: "target: { sqlite: target.db, table: items }", with: "target: { sqlite: target.db, table: other.items }"), expected: ["job.yaml:3", "a SQLite table has no schema but main"]),
        Case(
            name: "target is the source",
            spec: good.replacingOccurrences(of: "target: { sqlite: target.db, table: items }", with: "target: { sqlite: ./source.db, table: items }"),
            expected: ["job.yaml:3", "the target is the source itself"]),
        Case(
            name: "PostgreSQL on a closed port",
            spec: good.replacingOccurrences(of: "source: { sqlite: source.db, table: items }", with: "source: { postgres: \"postgres://backfill:s3cret-pw@127.0.0.1:1/app\", table: items }"),
            expected: ["connection refused", "127.0.0.1:1"]),
        Case(name: "hostile column name", spec: good + "columns: [id, 'name\" FROM items; --']\n", expected: ["column 'name\" FROM items; --' is not in source table 'items'"]),
        Case(name: "column name with a dot", spec: good + "columns: [id, items.name]\n", expected: ["job.yaml:9", "invalid column name 'items.name'"]),
        Case(name: "unset environment variable", spec: good.replacingOccurrences(of: "sqlite: source.db", with: "sqlite: \"${BACKFILL_TEST_UNSET_SECRET}\""), expected: ["environment variable 'BACKFILL_TEST_UNSET_SECRET' is not set"]),
        Case(name: "events for a table target", spec: good + "events: { id: id }\n", expected: ["events are replayed to a webhook or a JSONL file target"]),
        Case(name: "unknown verify key field", spec: good + "verify: { key-fields: [nope] }\n", expected: ["job.yaml:9", "key field 'nope' is not among the copied columns"]),
        Case(name: "malformed window", spec: good + "window: { hours: \"25:00-26:00\" }\n", expected: ["job.yaml:9", "expected HH:MM-HH:MM"]),
        Case(name: "throttle on a file source", spec: good.replacingOccurrences(of: "sqlite: source.db, table: items", with: "csv: export.csv") + "throttle: { query: \"select 1\", max: 1 }\n", expected: ["a throttle query runs on the source database"]),
        Case(
            name: "NULL keys in the source", spec: good,
            expected: ["1 source rows have a NULL key"],
            prepare: { dir in
                try Fixtures.execute(path: dir + "/source.db", "CREATE TABLE loose (id INTEGER, name TEXT NOT NULL, amount INTEGER, price REAL, note TEXT, updated_at TEXT NOT NULL); INSERT INTO loose SELECT * FROM items; INSERT INTO loose VALUES (NULL, 'x', 1, 1.0, NULL, 'z'); DROP TABLE items; ALTER TABLE loose RENAME TO items;")
            }),
        Case(
            name: "duplicate keys in the source", spec: good,
            expected: ["is not unique in the source"],
            prepare: { dir in
                try Fixtures.execute(path: dir + "/source.db", "CREATE TABLE loose (id INTEGER, name TEXT NOT NULL, amount INTEGER, price REAL, note TEXT, updated_at TEXT NOT NULL); INSERT INTO loose SELECT * FROM items; INSERT INTO loose SELECT * FROM items WHERE id < 3; DROP TABLE items; ALTER TABLE loose RENAME TO items;")
            }),
        Case(
            name: "target without a unique key for upsert", spec: good,
            expected: ["has no primary key or unique index on (id)"],
            prepare: { dir in
                try Fixtures.execute(path: dir + "/target.db", "CREATE TABLE loose (id INTEGER, name TEXT NOT NULL, amount INTEGER, price REAL, note TEXT, updated_at TEXT NOT NULL); INSERT INTO loose SELECT * FROM items; DROP TABLE items; ALTER TABLE loose RENAME TO items;")
            }),
        Case(
            name: "several problems reported at once",
            spec: good.replacingOccurrences(of: "workers: 2", with: "workers: 0\nretries: 3").replacingOccurrences(of: "mode: upsert", with: "mode: sideways"),
            expected: ["3 problems found", "unknown mode 'sideways'", "must be between 1 and 64", "unknown key 'retries'"]),
    ]

    @Test("bad input exits 2 with a message naming the problem and writes nothing", arguments: cases)
    func badInputIsRejected(_ testCase: Case) async throws {
        let dir = try Fixtures.temporaryDirectory("bad-input")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .integer, rows: 200)
        try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try testCase.prepare(dir)
        try testCase.spec.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/target.db"))
        for command in ["validate", "run"] {
            let result = try await Binary.run([command, "job.yaml"], in: dir)
            #expect(result.status == 2, "\(command): exit \(result.status)\n\(result.stderr)")
            #expect(!result.stderr.contains("s3cret"), "a password reached the message: \(result.stderr)")
            for phrase in testCase.expected {
                #expect(result.stderr.contains(phrase), "\(command): missing '\(phrase)' in:\n\(result.stderr)")
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/target.db")) == before)
        #expect(!FileManager.default.fileExists(atPath: dir + "/.backfill/state.db"))
    }

    @Test("commands without a state store exit 2 naming the path")
    func missingStateStore() async throws {
        let dir = try Fixtures.temporaryDirectory("bad-input")
        for arguments in [["status"], ["pause", "1"], ["report", "1"]] {
            let result = try await Binary.run(arguments, in: dir)
            #expect(result.status == 2)
            #expect(result.stderr.contains(".backfill/state.db"))
            #expect(result.stderr.contains("no state store here"))
        }
    }

    @Test("invalid arguments exit 2")
    func invalidArguments() async throws {
        let dir = try Fixtures.temporaryDirectory("bad-input")
        #expect(try await Binary.run(["run", "job.yaml", "--limit", "0"], in: dir).status == 2)
        let negative = try await Binary.run(["run", "job.yaml", "--limit", "-5"], in: dir)
        #expect(negative.status == 2)
        #expect(negative.stderr.contains("--limit must be at least 1"), "\(negative.stderr)")
        #expect(try await Binary.run(["frobnicate"], in: dir).status == 2)
        #expect(try await Binary.run(["run"], in: dir).status == 2)
    }

    @Test("a corrupt state file exits 2 naming it and SQLite's reason, and is never changed")
    func corruptStateFile() async throws {
        let dir = try Fixtures.temporaryDirectory("bad-input")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .integer, rows: 200)
        try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try Self.good.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/.backfill", withIntermediateDirectories: true)
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: dir + "/.backfill/state.db"))
        let target = try Data(contentsOf: URL(fileURLWithPath: dir + "/target.db"))
        for arguments in [["run", "job.yaml"], ["run", "job.yaml", "--dry-run"], ["status"], ["verify", "job.yaml", "--repair"]] {
            let result = try await Binary.run(arguments, in: dir)
            #expect(result.status == 2, "\(arguments): exit \(result.status)\n\(result.stderr)")
            #expect(result.stderr.contains(".backfill/state.db"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("not a usable backfill state store (SQLite: file is not a database)"), "\(arguments): \(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/.backfill/state.db")) == garbage)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/target.db")) == target)
    }
}
