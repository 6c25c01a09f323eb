import BackfillTesting
import Foundation
import Testing

/// `init`, `validate`, `plan`, `status` and `report` through the real binary.
@Suite(.timeLimit(.minutes(6)))
struct SpecCommandTests {
    @Test("init writes a commented spec that parses, and refuses to overwrite it")
    func initWritesExample() async throws {
        let dir = try Fixtures.temporaryDirectory("init")
        let first = try await Binary.run(["init", "orders.yaml"], in: dir)
        #expect(first.status == 0)
        let text = try String(contentsOfFile: dir + "/orders.yaml", encoding: .utf8)
        #expect(text.contains("# "))
        #expect(text.contains("newer-wins"))
        let second = try await Binary.run(["init", "orders.yaml"], in: dir)
        #expect(second.status == 2)
        #expect(second.stderr.contains("already exists"))
        // The example names files that do not exist here: validate must say so, exit 2, and name the line.
        let validate = try await Binary.run(["validate", "orders.yaml"], in: dir)
        #expect(validate.status == 2)
        let sourceLine = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("source:") }) + 1
        #expect(validate.stderr.contains("orders.yaml:\(sourceLine)"))
        #expect(validate.stderr.contains("data/primary.db"))
    }

    @Test("init --from writes a spec from a real table or file: key, columns, newer-wins, batch size, create when the target is missing; it validates and runs")
    func initFromSource() async throws {
        let dir = try Fixtures.temporaryDirectory("init-from")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .composite, rows: 2_000)
        try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        let written = try await Binary.run(["init", "--from", "source.db", "--to", "target.db", "job.yaml"], in: dir)
        #expect(written.status == 0, "\(written.stderr)")
        let text = try String(contentsOfFile: dir + "/job.yaml", encoding: .utf8)
        #expect(text.contains(#"key: ["tenant", "id"]"#) && text.contains(#"newer-wins: "updated_at""#) && !text.contains("create: true"), "\(text)")
        #expect(text.contains("batch: { size: 20000 }"), "\(text)")
        #expect(try await Binary.run(["validate", "job.yaml"], in: dir).status == 0)
        let run = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Fixtures.dump(path: dir + "/target.db", orderBy: "tenant, id") == Fixtures.dump(path: dir + "/source.db", orderBy: "tenant, id"))

        // A CSV export has no primary key: without an id column, --key is asked for.
        try (["sku,name,updated_at"] + (1...300).map { "sku-\($0),item \($0),2024-01-01T00:00:00Z" }).joined(separator: "\n")
            .write(toFile: dir + "/export.csv", atomically: true, encoding: .utf8)
        let refused = try await Binary.run(["init", "--from", "export.csv", "csv.yaml"], in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("--key"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/csv.yaml"), "nothing written")
        let keyed = try await Binary.run(["init", "--from", "export.csv", "--key", "sku", "csv.yaml"], in: dir)
        #expect(keyed.status == 0, "\(keyed.stderr)")
        let csvSpec = try String(contentsOfFile: dir + "/csv.yaml", encoding: .utf8)
        #expect(csvSpec.contains(#"target: { sqlite: "export.db", table: "export", create: true }"#), "\(csvSpec)")
        let created = try await Binary.run(["run", "csv.yaml"], in: dir)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try Fixtures.integer(path: dir + "/export.db", "SELECT count(*) FROM export") == 300)

        // A spec written into another folder names the files from there.
        try FileManager.default.createDirectory(atPath: dir + "/specs", withIntermediateDirectories: true)
        let elsewhere = try await Binary.run(["init", "--from", "source.db", "--to", "target.db", "specs/job.yaml"], in: dir)
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
        let moved = try await Binary.run(["validate", "specs/job.yaml"], in: dir)
        #expect(moved.status == 0, "\(moved.stderr)")

        for (arguments, message) in [
            (["init", "--from", "export.csv", "--to", "out.csv", "x.yaml"], "not a csv file"),
            (["init", "--from", "source.db", "--key", "nope", "x.yaml"], "no column 'nope'"),
            (["init", "--to", "target.db", "x.yaml"], "go with --from"),
            (["init", "--from", "missing.db", "x.yaml"], "missing.db"),
        ] {
            let result = try await Binary.run(arguments, in: dir)
            #expect(result.status == 2 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    @Test("validate and plan describe a good spec; --json has a stable shape")
    func validateAndPlan() async throws {
        let dir = try Fixtures.temporaryDirectory("plan")
        try Fixtures.makeSource(path: dir + "/source.db", kind: .text, rows: 50_000)
        try Fixtures.makeDamagedCopy(of: dir + "/source.db", at: dir + "/target.db")
        try Fixtures.spec(kind: .text).write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let validate = try await Binary.run(["validate", "job.yaml", "--json"], in: dir)
        #expect(validate.status == 0)
        #expect(validate.stdout.contains("\"valid\" : true"))
        let plan = try await Binary.run(["plan", "job.yaml", "--json"], in: dir)
        #expect(plan.status == 0)
        struct Plan: Decodable {
            var estimatedRows: Int
            var chunks: [Chunk]
            var paths: [String]
            struct Chunk: Decodable { var index: Int; var estimatedRows: Int }
        }
        let decoded = try JSONDecoder().decode(Plan.self, from: Data(plan.stdout.utf8))
        #expect(decoded.estimatedRows == 50_000)
        #expect(decoded.chunks.count == 5)
        #expect(decoded.paths == ["chunk-comparison", "transfer", "rows"], "SQLite → SQLite: equal chunks skipped, batches merged inside SQLite")
        let text = try await Binary.run(["plan", "job.yaml"], in: dir)
        #expect(text.stdout.contains("how rows move: chunks already equal on both sides are skipped"), "\(text.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/.backfill"))
        let run = try await Binary.run(["run", "job.yaml"], in: dir)
        #expect(run.status == 0)
        let status = try await Binary.run(["status"], in: dir)
        #expect(status.stdout.contains("run 1  items  completed"))
        #expect(status.stdout.contains("chunks 5/5"))
        let report = try await Binary.run(["report", "1", "--json"], in: dir)
        #expect(report.stdout.contains("\"balanced\" : true"))
        #expect(report.stdout.contains("\"kind\" : \"completed\""))
    }
}
