import ArgumentParser
import BackfillCore
import BackfillSQLite
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a primary and a damaged replica, dry-run, backfill, and prove the replica now equals the primary.")

    @Option(help: "Folder for the demo's databases, spec and state (default: a new temporary folder).")
    var dir: String?

    @Option(help: "Orders in the primary database.")
    var rows = 200_000

    @Option(help: "Replay into a PostgreSQL table (backfill_demo_orders, dropped and recreated) of this database instead of a SQLite replica, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.")
    var postgres: String?

    @Flag(help: "Only build the primary and its damaged replica (with --dir: the data of the README's \"A first job\").")
    var dataOnly = false

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if rows < 1000 { throw ValidationError("--rows must be at least 1000") }
    }

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let folder = try demoFolder()
            print("1. Building \(folder)/primary.db with \(Output.number(rows)) orders and a damaged replica.db …")
            let damage = try DemoData.create(in: folder, rows: rows)
            print("   damage: ids \(damage.missingRange.lowerBound)…\(damage.missingRange.upperBound) missing (the outage), \(Output.number(damage.lostRows)) scattered rows lost, \(Output.number(damage.staleRows)) rows stale")
            if dataOnly {
                let parent = URL(fileURLWithPath: folder).deletingLastPathComponent().path
                print("\nNext (the README's \"A first job\"): cd \(parent) && \(Version.command) init orders.yaml")
                return
            }
            let specPath = folder + "/backfill.yaml"
            if let postgres {
                print("   copying the damaged replica into PostgreSQL table backfill_demo_orders …")
                try await PostgresDemo.loadReplica(dsn: postgres, folder: folder)
            }
            try (postgres.map(PostgresDemo.spec) ?? Self.spec).write(toFile: specPath, atomically: true, encoding: .utf8)
            print("2. Wrote the spec \(specPath)")
            try await JobWiring.withPrepared(specPath: specPath, checkKey: true) { prepared in try await demonstrate(prepared, folder: folder) }
        }
    }

    private func demonstrate(_ prepared: PreparedJob, folder: String) async throws {
        let before = try await reconcile(prepared, folder: folder)
        print("   before: primary \(before.primary) · replica \(before.replica)")
        print("3. Dry run (reads and compares, writes nothing):")
        let dry = try await execute(prepared, state: .memory(InMemoryStateStore()), dryRun: true)
        print(RunSummaryText.render(dry).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        print("4. Backfill:")
        let state = try await JobWiring.stateStore(for: prepared.spec, create: true)
        let summary = try await execute(prepared, state: state, dryRun: false)
        print(RunSummaryText.render(summary).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        print("5. Reconciliation (count + checksum of every column, both sides):")
        let after = try await reconcile(prepared, folder: folder)
        print("   primary  \(after.primary)\n   replica  \(after.replica)")
        guard after.primary == after.replica else {
            print("   DIFFERENT: the replica does not equal the primary")
            throw ExitCode(ExitStatus.differences)
        }
        print("   EQUAL: the replica now equals the primary.")
        let backfill = Version.command
        print("\nTry: cd \(folder) && \(backfill) status && \(backfill) run backfill.yaml   (a rerun writes nothing)")
        print("     \(backfill) journal 1 && \(backfill) undo 1   (the run was journaled: its undo puts the replica back as it was)")
    }

    private func demoFolder() throws -> String {
        let path = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("backfill-demo-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    private func execute(_ prepared: PreparedJob, state: OpenedState, dryRun: Bool) async throws -> RunSummary {
        var configuration = RunnerConfiguration(spec: prepared.spec)
        configuration.dryRun = dryRun
        let source = prepared.source
        let workers = prepared.spec.workers
        let (run, _) = try await RunStarter(state: state.store).startOrResume(spec: prepared.spec, specText: prepared.loaded.text) {
            try await source.plan(workers: workers)
        }
        let logger = LogBootstrap.logger()
        let observer = ProgressReporter(terminal: isatty(2) == 1, logger: logger)
        return try await JobWiring.runner(prepared, state: state, configuration: configuration, logger: logger, observer: observer)
            .execute(run: run)
    }

    private func reconcile(_ prepared: PreparedJob, folder: String) async throws -> (primary: TableDigest, replica: TableDigest) {
        let primary = try SQLiteSource(path: folder + "/primary.db", table: "orders", key: ["id"]).selecting(prepared.job.columns)
        // The target, read back as a source: the replica file, or the PostgreSQL table.
        let replica: any Source = postgres == nil
            ? try SQLiteSource(path: folder + "/replica.db", table: "orders", key: ["id"]).selecting(prepared.job.columns)
            : try await JobWiring.openSource(
                PostgresDemo.targetAsSource(prepared.spec), columns: prepared.job.columns, connections: prepared.connections).reader
        return (try await Reconciler.digest(of: primary), try await Reconciler.digest(of: replica))
    }

    static let spec = """
        # Written by `backfill demo`.
        name: demo-orders
        source: { sqlite: primary.db, table: orders }
        target: { sqlite: replica.db, table: orders }
        key: [id]
        mode: upsert
        conflict: { newer-wins: updated_at }
        batch: { size: 2000 }
        workers: 2

        """
}
