import BackfillCore
import BackfillPostgres
import Foundation

/// A run of a journaled job into a PostgreSQL table, found in its state store with the spec it was
/// started with (`backfill journal`, `backfill undo`).
struct JournaledRun {
    let state: any StateStore
    let record: RunRecord
    let spec: JobSpec
    /// The spec as stored with the run.
    let specText: String
    let table: String

    /// - Throws: `BackfillError` `.invalidInput` naming the state store when the run is unknown,
    ///   has no stored spec, wrote to anything but a PostgreSQL table, or was not journaled.
    static func open(_ run: Int64, statePath: String) async throws -> JournaledRun {
        let (state, record) = try await JobWiring.openRun(run, statePath: statePath)
        let location = Redaction.redact(statePath)
        guard let text = try await state.specText(runID: run) else {
            throw BackfillError(.invalidInput, "run \(run) has no stored spec (it was started by an older version), so its journal cannot be found", location: location)
        }
        let spec = try SpecLoader.parse(
            yaml: text, file: "the spec stored with run \(run)", baseDirectory: FileManager.default.currentDirectoryPath,
            environment: ProcessInfo.processInfo.environment
        ).spec
        guard spec.events == nil, spec.target.kind == .postgres, let table = spec.target.table else {
            throw BackfillError(
                .invalidInput, "run \(run) wrote to a \(spec.target.kind.rawValue) target: only runs into PostgreSQL tables are journaled (events sent cannot be taken back)",
                location: location)
        }
        guard spec.journal.isOn else {
            throw BackfillError(.invalidInput, "run \(run) was not journaled (its spec has no journal:), so there is nothing to take it back from", location: location)
        }
        return JournaledRun(state: state, record: record, spec: spec, specText: text, table: table)
    }

    /// The target database, with the job's timeouts.
    func connect() async throws -> PostgresDatabase {
        try await PostgresDatabase.connect(
            spec.target.location, maxConnections: 3,
            timeouts: PostgresTimeouts(lock: spec.limits.lockTimeout, statement: spec.limits.statementTimeout))
    }
}
