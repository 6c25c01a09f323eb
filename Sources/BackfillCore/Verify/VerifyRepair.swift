import Logging

/// `verify --repair`: a backfill run over exactly the keys a verification found missing or
/// different, through the normal runner (so every control applies), and, with `--delete-extra`,
/// deletion of the rows only the target has.
public struct VerifyRepair: Sendable {
    /// Where the repair run is recorded (the job's state store).
    public var state: any StateStore
    /// The job's configured target.
    public var sink: any Sink
    /// With `--delete-extra`: the target, to delete rows only it has; `nil` keeps them.
    public var deleting: (any DeletingSink)?
    public var logger: Logger
    /// The job's spec as written, stored with the repair run (`backfill undo` reads its target there).
    public var specText: String?

    public init(state: any StateStore, sink: any Sink, deleting: (any DeletingSink)?, logger: Logger, specText: String? = nil) {
        self.state = state
        self.sink = sink
        self.deleting = deleting
        self.logger = logger
        self.specText = specText
    }

    /// Runs the repair of `report`'s keys as job `<name>.repair`, reading them from `source`.
    func run(_ report: VerifyReport, job: ResolvedJob, source: any VerifySide) async throws -> RepairOutcome {
        var job = job
        job.spec.name = String((job.spec.name + ".repair").prefix(100))
        let spec = job.spec
        let keys = report.repairKeys ?? []
        // A repair is planned from this verification: an older unfinished one holds other keys.
        while let stale = try await state.latestResumableRun(job: spec.name) {
            var machine = RunStateMachine(status: stale.status)
            for case .persist(let change) in machine.handle(.superseded) { try await state.apply(change, runID: stale.id) }
        }
        let keySource = KeyListSource(base: source, keys: keys, keyIndices: job.keyIndices)
        var new = NewRun(
            job: spec.name, specFingerprint: spec.fingerprint, chunks: try await keySource.plan(workers: 1), owner: RunStarter.currentProcess)
        new.spec = specText.map { SpecLoader.storable($0, baseDirectory: spec.baseDirectory) }
        let run = try await state.createRun(new)
        try await state.recordEvent(runID: run.id, kind: "started", message: "repair of \(keys.count) keys found by verify")
        let summary = try await Runner(
            job: job, source: keySource, sink: sink, state: state, configuration: RunnerConfiguration(spec: spec), logger: logger
        ).execute(run: run)
        var outcome = RepairOutcome(before: report, summary: summary)
        guard let extra = report.extraKeys, !extra.isEmpty else { return outcome }
        guard let deleting else {
            outcome.extraKept = extra.count
            return outcome
        }
        // Safety net: never delete a row whose key the source of truth still has (a collation or
        // type that pairs keys differently from verify's byte order must not cost data).
        let present = Set((try await source.fetch(keys: extra) ?? []).map { job.key(of: $0) })
        let absent = extra.filter { !present.contains($0) }
        // Deleted under the repair run, whose journal (if any) takes them back with its rows.
        outcome.deleted = try await deleting.deleting(for: run).delete(keys: absent)
        outcome.keptBySource = extra.count - absent.count
        return outcome
    }
}

/// What a `verify --repair` did.
public struct RepairOutcome: Sendable {
    /// The verification the repair was planned from.
    public var before: VerifyReport
    /// The repair run.
    public var summary: RunSummary
    /// Rows only in the target, deleted (`--delete-extra`).
    public var deleted = 0
    /// Rows only in the target by verify's order that the source still has by key: kept.
    public var keptBySource = 0
    /// Rows only in the target, kept because `--delete-extra` was not given.
    public var extraKept = 0
}
