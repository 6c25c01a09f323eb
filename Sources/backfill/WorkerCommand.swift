import ArgumentParser
import BackfillCore
import Foundation

/// `backfill worker`: one more process working on a run whose state lives in PostgreSQL.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Join a run whose state store is PostgreSQL: claim chunks, keep their leases alive, exit when the run is complete.",
        discussion: """
            Any number of workers, on any machines, share one run: chunks are claimed with FOR UPDATE SKIP \
            LOCKED and leased; a worker that dies or stalls past its lease loses its chunks to the others, \
            and its late checkpoints are refused. With --spec, the worker joins the job's unfinished run \
            (starting it when there is none); with --run alone, it uses the spec stored with that run.
            """)

    @Option(help: "The job spec (YAML) whose run to join.")
    var spec: String?

    @Option(help: "The run to join (by default the newest unfinished run of the spec's job).")
    var run: Int64?

    @Option(help: "The PostgreSQL state store (default: the spec's state:).")
    var state: String?

    @Option(help: "Concurrent workers in this process (default: the spec's workers).")
    var workers: Int?

    @Flag(help: "Serve the dashboard, the JSON API and /metrics (with this worker's own batch durations and waits) while it works.")
    var serve = false

    @OptionGroup var server: ServerOptions

    @OptionGroup var lease: LeaseOptions

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if spec == nil && run == nil { throw ValidationError("give --spec SPEC, --run RUN (with --state), or both") }
        if spec == nil && state == nil { throw ValidationError("--run without --spec needs --state DSN") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() async throws {
        common.bootstrapLogging()
        try await withExitCodes {
            let loaded = try await loadSpec()
            let statePath = state ?? loaded.spec.statePath
            guard JobWiring.isPostgres(statePath) else {
                throw BackfillError(
                    .invalidInput,
                    "a worker needs a PostgreSQL state store (state: postgres://… or --state); a SQLite store belongs to the one process that runs it",
                    location: Redaction.redact(statePath))
            }
            if loaded.spec.events != nil {
                throw BackfillError(
                    .invalidInput, "event replay runs in one process, to keep each order key's events in order; use backfill run (and target.concurrency)",
                    location: loaded.file)
            }
            // Like `run`, a worker creates the target table the spec asks for (another process may have just created it).
            try await JobWiring.withPrepared(loaded, checkKey: false, creating: .create(asked: false), lease: lease.duration) { prepared in
                try await execute(prepared, statePath: statePath)
            }
        }
    }

    private func execute(_ prepared: PreparedJob, statePath: String) async throws {
        let state = try await JobWiring.openStateStore(statePath, create: true, lease: lease.duration)
        let source = prepared.source
        let joined = try await RunStarter(state: state.store).join(spec: prepared.spec, runID: run, specText: prepared.loaded.text) {
            try await source.plan(workers: prepared.spec.workers)
        }
        var configuration = RunnerConfiguration(spec: prepared.spec)
        if let workers { configuration.workers = workers }
        lease.apply(to: &configuration)
        if !common.json {
            print("worker \(RunStarter.currentProcess) joined run \(joined.id) of \(joined.job) (\(Output.number(joined.counters.read)) rows read so far)")
        }
        try await RunExecution(prepared: prepared, state: state, configuration: configuration, common: common, server: serve ? server : nil)
            .execute(joined)
    }

    /// The spec from --spec, or the one stored with --run.
    private func loadSpec() async throws -> LoadedSpec {
        if let spec { return try SpecLoader.load(path: spec) }
        guard let run, let state else { throw ValidationError("--run without --spec needs --state DSN") }
        let (store, _) = try await JobWiring.openRun(run, statePath: state)
        guard let text = try await store.specText(runID: run) else {
            throw BackfillError(.invalidInput, "run \(run) has no stored spec (it was started by an older version); give the worker --spec", location: Redaction.redact(state))
        }
        return try SpecLoader.parseStored(text, run: run, environment: ProcessInfo.processInfo.environment)
    }
}
