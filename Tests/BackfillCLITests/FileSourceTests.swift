import BackfillTesting
import Foundation
import Testing

/// CSV and JSONL exports as the source of truth, through the real binary.
@Suite(.timeLimit(.minutes(6)))
struct FileSourceTests {
    static func workspace(kind: KeyKind) throws -> String {
        let dir = try Fixtures.temporaryDirectory("files-\(kind)")
        try Fixtures.makeSource(path: dir + "/source.db", kind: kind, rows: 3000)
        try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try Fixtures.installWriteCounter(path: dir + "/target.db")
        return dir
    }

    static func spec(kind: KeyKind, source: String) -> String {
        Fixtures.spec(kind: kind).replacingOccurrences(of: "source: { sqlite: source.db, table: items }", with: "source: { \(source) }")
    }

    @Test("a CSV export repairs the target; every row is accounted for; a rerun writes nothing", arguments: KeyKind.allCases)
    func csvExport(kind: KeyKind) async throws {
        let dir = try Self.workspace(kind: kind)
        try Fixtures.exportCSV(from: dir + "/source.db", to: dir + "/export.csv")
        try Self.spec(kind: kind, source: "csv: export.csv").write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let first = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("\"read\" : 3000"))
        #expect(first.stdout.contains("\"balanced\" : true"))
        let order = kind.keyColumns.joined(separator: ", ")
        #expect(try Fixtures.dump(path: dir + "/target.db", orderBy: order) == Fixtures.dump(path: dir + "/source.db", orderBy: order))
        let written = try Fixtures.integer(path: dir + "/target.db", "SELECT n FROM write_count")
        let second = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(second.stdout.contains("\"unchanged\" : 3000"))
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT n FROM write_count") == written)
    }

    @Test("a JSONL export repairs the target", arguments: KeyKind.allCases)
    func jsonlExport(kind: KeyKind) async throws {
        let dir = try Self.workspace(kind: kind)
        try Fixtures.exportJSONL(from: dir + "/source.db", to: dir + "/export.jsonl")
        try Self.spec(kind: kind, source: "jsonl: export.jsonl").write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let result = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let order = kind.keyColumns.joined(separator: ", ")
        #expect(try Fixtures.dump(path: dir + "/target.db", orderBy: order) == Fixtures.dump(path: dir + "/source.db", orderBy: order))
    }

    @Test("malformed lines, bad values, NULL and duplicate keys are quarantined with their line; good rows are written")
    func badRowsAreQuarantined() async throws {
        let dir = try Self.workspace(kind: .integer)
        try Fixtures.execute(path: dir + "/target.db", "DELETE FROM items")
        let csv = [
            "id,name,amount,price,note,updated_at",
            "1,\"first, with comma\",10,1.5,\"two\nlines\",2026-01-01T00:00:00Z",
            "2,second,20,2.5",
            "3,third,not-a-number,3.5,,2026-01-01T00:00:00Z",
            ",no key,1,1.0,,2026-01-01T00:00:00Z",
            "4,\"bad \"quote,1,1.0,,2026-01-01T00:00:00Z",
            "5,fifth,50,5.5,\"\",2026-01-01T00:00:00Z",
            "5,fifth again,51,5.5,,2026-01-01T00:00:00Z",
            "6,sixth,60,6.5,,2026-01-01T00:00:00Z",
        ].joined(separator: "\n") + "\n"
        try csv.write(toFile: dir + "/export.csv", atomically: true, encoding: .utf8)
        try Self.spec(kind: .integer, source: "csv: export.csv").write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let result = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(result.status == 5, "completed with rows in quarantine: exit 5\n\(result.stderr)")
        #expect(result.stdout.contains("\"read\" : 8"))
        #expect(result.stdout.contains("\"inserted\" : 3"))
        #expect(result.stdout.contains("\"quarantined\" : 5"))
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM items") == 3)
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM items WHERE id = 1 AND note = 'two\nlines'") == 1)
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM items WHERE id = 5 AND note = ''") == 1)
        #expect(result.stdout.contains("\"data\" : 4"))
        #expect(result.stdout.contains("\"duplicate\" : 1"))
        let quarantine = try await Binary.run(["quarantine", "1"], in: dir)
        for expected in ["line 4", "expected 6 fields, found 4", "line 5", "amount", "line 6", "key column 'id' is NULL", "line 7", "line 9", "duplicate key"] {
            #expect(quarantine.stdout.contains(expected), "missing '\(expected)' in:\n\(quarantine.stdout)")
        }
        // Retrying keeps what is still bad quarantined, and never lets a later duplicate overwrite a row.
        let retry = try await Binary.run(["run", "job.yaml", "--retry-quarantined", "--json"], in: dir)
        #expect(retry.status == 1)
        #expect(retry.stdout.contains("\"stillFailing\" : 2"))
        #expect(retry.stdout.contains("\"notRetryable\" : 3"))
        #expect(try Fixtures.integer(path: dir + "/target.db", "SELECT count(*) FROM items WHERE id = 5 AND name = 'fifth'") == 1)
        // A spec that accepts quarantined rows: the next run of the same export exits 0.
        try (Self.spec(kind: .integer, source: "csv: export.csv") + "limits: { accept-quarantined: true }\n")
            .write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let accepted = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.stdout.contains("\"quarantined\" : 5"))
    }

    @Test("verify compares a CSV or JSONL export with the target: missing, different and extra rows", arguments: [true, false])
    func verifyAnExport(csv: Bool) async throws {
        let dir = try Fixtures.temporaryDirectory("verify-export")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .composite, rows: 3000)
        let damaged = try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try Fixtures.execute(path: dir + "/target.db", """
            INSERT INTO items VALUES (9, 1, 'extra', 1, 1.0, NULL, '2026-01-01T00:00:00Z');
            INSERT INTO items VALUES (9, 2, 'extra', 2, 2.0, NULL, '2026-01-01T00:00:00Z');
            """)
        if csv {
            try Fixtures.exportCSV(from: dir + "/source.db", to: dir + "/export.csv")
        } else {
            try Fixtures.exportJSONL(from: dir + "/source.db", to: dir + "/export.csv")
        }
        try Self.spec(kind: .composite, source: csv ? "csv: export.csv" : "jsonl: export.csv")
            .write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        struct Report: Decodable { var missing: Int; var extra: Int; var different: Int; var sourceRows: Int; var result: String }
        let before = try await Binary.run(["verify", "job.yaml", "--json"], in: dir)
        #expect(before.status == 3, "\(before.stderr)")
        let first = try JSONDecoder().decode(Report.self, from: Data(before.stdout.utf8))
        #expect(first.missing + first.different == damaged)
        #expect(first.extra == 2)
        #expect(first.sourceRows == 3000)
        #expect(try await Binary.run(["run", "job.yaml"], in: dir).status == 0)
        try Fixtures.execute(path: dir + "/target.db", "DELETE FROM items WHERE tenant = 9")
        let after = try await Binary.run(["verify", "job.yaml", "--json"], in: dir)
        #expect(after.status == 0, "\(after.stdout)")
        let second = try JSONDecoder().decode(Report.self, from: Data(after.stdout.utf8))
        #expect(second.result == "equal")
    }
}
