import BackfillTesting
import Foundation
import Testing

/// A warehouse export in gzip parts into a PostgreSQL table that does not exist yet — against the
/// real binary, the real `gzip` tool and a real PostgreSQL; and the bad inputs an export brings.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(10)))
struct PostgresExportPartsTests {
    /// Writes `parts` gzipped CSV parts of `rowsPerPart` rows each to `dir/export/`, as a warehouse
    /// names them (BigQuery: `000000000000.csv.gz`), with a `_SUCCESS` marker beside them.
    static func writeExport(_ dir: String, parts: Int, rowsPerPart: Int) throws {
        let export = dir + "/export"
        try FileManager.default.createDirectory(atPath: export, withIntermediateDirectories: true)
        for part in 0..<parts {
            var text = "id,customer,amount,placed_at,note\n"
            text.reserveCapacity(rowsPerPart * 64)
            for id in (part * rowsPerPart + 1)...((part + 1) * rowsPerPart) {
                let note = id % 7 == 0 ? "" : id % 5 == 0 ? "\"said \"\"hi\"\", twice\"" : "n\(id % 1000)"
                text += "\(id),cust-\(id % 9973),\(id % 100_000).\(id % 100),2024-0\(1 + id % 9)-1\(id % 10)T0\(id % 10):00:00Z,\(note)\n"
            }
            let name = String(format: "%012d.csv", part)
            try text.write(toFile: export + "/" + name, atomically: false, encoding: .utf8)
            let gzip = try Binary.runBlocking(["-1", name], in: export, environment: [:], executable: "/usr/bin/gzip")
            try #require(gzip.status == 0, "gzip: \(gzip.stderr)")
        }
        try "".write(toFile: export + "/_SUCCESS", atomically: true, encoding: .utf8)
    }

    static func spec(_ dir: String, database: String, server: PostgresFixture, source: String = "export/") throws {
        try """
            name: export-parts
            source: { csv: "\(source)" }
            target: { postgres: "\(server.dsn(database))", table: orders, create: true }
            key: [id]
            workers: 2
            batch: { size: 5000 }

            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
    }

    @Test("8 gzipped CSV parts, 1M rows → a new PostgreSQL table with 2 workers; kill -9 mid-part, resume: verify equal, every row once")
    func millionRowsInPartsKilledAndResumed() async throws {
        guard let server = PostgresFixture.server else { return }
        let dir = try Fixtures.temporaryDirectory("export-parts")
        try Self.writeExport(dir, parts: 8, rowsPerPart: 125_000)
        let database = try await server.createDatabase("parts")
        try Self.spec(dir, database: database, server: server)

        // Before the table exists: its DDL first, then the parts the run would read.
        let preview = try await Binary.run(["plan", "job.yaml"], in: dir)
        #expect(preview.status == 0 && preview.stdout.contains("CREATE TABLE \"orders\"") && preview.stdout.contains("8 chunks"), "\(preview.stdout)")

        let process = try Binary.launch(["run", "job.yaml"], in: dir)
        try await RunLifecycleTests.killNine(process, state: dir + "/.backfill/state.db", onceRead: 300_000)
        #expect(process.terminationReason == .uncaughtSignal)
        // Killed mid-part: some part was started and not finished.
        let midPart = try Fixtures.integer(
            path: dir + "/.backfill/state.db", "SELECT count(*) FROM chunks WHERE status != 'done' AND read > 0")
        #expect(midPart >= 1)
        let written = Int(try await server.psql(database, "SELECT count(*) FROM orders")) ?? -1
        #expect(written > 0 && written < 1_000_000)

        let resumed = try await Binary.run(["run", "job.yaml", "--json"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("\"status\" : \"completed\"") && resumed.stdout.contains("\"balanced\" : true"), "\(resumed.stdout)")
        #expect(try await server.psql(database, "SELECT count(*), count(DISTINCT id), min(id), max(id) FROM orders") == "1000000|1000000|1|1000000")
        #expect(try await TargetCreationTests.shape(server, database, "orders")
            == "id bigint NO, customer text YES, amount numeric YES, placed_at timestamp with time zone YES, note text YES | key id",
            "a sample of the first rows cannot prove a column of the whole export NOT NULL")
        let plan = try await Binary.run(["plan", "job.yaml"], in: dir)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("8 chunks") && plan.stdout.contains("000000000007.csv.gz") && !plan.stdout.contains("_SUCCESS"), "\(plan.stdout)")

        let verify = try await Binary.run(["verify", "job.yaml"], in: dir)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.contains("source 1,000,000 rows"), "\(verify.stdout)")
    }

    @Test("bad exports exit 2 naming the part and write nothing: a .gz part that is not gzip, a truncated part, a glob matching nothing")
    func badPartsAreRefusedByName() async throws {
        guard let server = PostgresFixture.server else { return }
        let dir = try Fixtures.temporaryDirectory("export-bad-parts")
        try Self.writeExport(dir, parts: 3, rowsPerPart: 20_000)
        let database = try await server.createDatabase("badparts")
        let export = dir + "/export/"

        // Not gzip: a plain CSV named .gz.
        try "id,customer,amount,placed_at,note\n1,a,1.5,2024-01-01T00:00:00Z,x\n".write(
            toFile: export + "000000000003.csv.gz", atomically: true, encoding: .utf8)
        try Self.spec(dir, database: database, server: server)
        let notGzip = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(notGzip.status == 2 && notGzip.stderr.contains("000000000003.csv.gz") && notGzip.stderr.contains("is not gzip data"), "\(notGzip.stderr)")
        try FileManager.default.removeItem(atPath: export + "000000000003.csv.gz")

        // Truncated: the last part cut short.
        let last = export + "000000000002.csv.gz"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: last))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: last))
        let truncated = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(truncated.status == 2 && truncated.stderr.contains("000000000002.csv.gz") && truncated.stderr.contains("truncated after"), "\(truncated.stderr)")

        // A glob matching nothing.
        try Self.spec(dir, database: database, server: server, source: "export/*.jsonl.gz")
        let nothing = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(nothing.status == 2 && nothing.stderr.contains("export/*.jsonl.gz") && nothing.stderr.contains("matches no CSV file"), "\(nothing.stderr)")

        // Nothing was created, so nothing was written.
        #expect(try await server.psql(database, "SELECT to_regclass('orders') IS NULL") == "t")
    }

    @Test("init --from a directory of gzipped parts, --table naming the target: a spec that validates, creates, fills and verifies")
    func initFromPartsDirectory() async throws {
        guard let server = PostgresFixture.server else { return }
        let dir = try Fixtures.temporaryDirectory("export-init")
        try Self.writeExport(dir, parts: 2, rowsPerPart: 5_000)
        let database = try await server.createDatabase("initparts")
        let written = try await Binary.run(["init", "--from", "export/", "--to", server.dsn(database), "--table", "orders", "job.yaml"], in: dir)
        #expect(written.status == 0, "\(written.stderr)")
        let text = try String(contentsOfFile: dir + "/job.yaml", encoding: .utf8)
        #expect(text.contains(#"source: { csv: "export/" }"#) && text.contains(#"table: "orders", create: true"#), "\(text)")
        for command in [["validate", "job.yaml"], ["run", "job.yaml"], ["verify", "job.yaml"]] {
            let result = try await Binary.run(command, in: dir)
            #expect(result.status == 0, "\(command): \(result.stdout) \(result.stderr)")
        }
        #expect(try await server.psql(database, "SELECT count(*) FROM orders") == "10000")
    }

    @Test("a part changed since the run started is refused on resume, naming it; nothing more is written")
    func changedPartIsRefusedOnResume() async throws {
        guard let server = PostgresFixture.server else { return }
        let dir = try Fixtures.temporaryDirectory("export-changed-part")
        try Self.writeExport(dir, parts: 4, rowsPerPart: 50_000)
        let database = try await server.createDatabase("changed")
        try Self.spec(dir, database: database, server: server)
        try String(contentsOfFile: dir + "/job.yaml", encoding: .utf8)
            .replacingOccurrences(of: "workers: 2\n", with: "workers: 1\nlimits: { rows-per-second: 20000 }\n")
            .write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)

        let process = try Binary.launch(["run", "job.yaml"], in: dir)
        try await RunLifecycleTests.killNine(process, state: dir + "/.backfill/state.db", onceRead: 20_000)
        #expect(process.terminationReason == .uncaughtSignal)
        let before = try await server.psql(database, "SELECT count(*) FROM orders")

        // Re-exported: the last part, not started yet, now holds other bytes.
        let part = dir + "/export/000000000003.csv.gz"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: part))
        bytes.append(contentsOf: try Data(contentsOf: URL(fileURLWithPath: dir + "/export/000000000000.csv.gz")))
        try bytes.write(to: URL(fileURLWithPath: part))
        let resumed = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("000000000003.csv.gz") && resumed.stderr.contains("changed since the run planned it"), "\(resumed.stderr)")
        // Refused before the run went on: not a row more.
        #expect(try await server.psql(database, "SELECT count(*) FROM orders") == before)
        #expect(try Fixtures.text(path: dir + "/.backfill/state.db", "SELECT status FROM runs") == "running")
    }
}
