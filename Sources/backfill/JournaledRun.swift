import BackfillCore
import BackfillPostgres
import BackfillSQLite
import Foundation

/// A run of a journaled job into a SQLite or PostgreSQL table, found in its state store with the
/// spec it was started with (`backfill journal`, `backfill undo`, `backfill report`).
struct JournaledRun {
    let state: any StateStore
    let record: RunRecord
    let spec: JobSpec
    /// The spec as stored with the run.
    let specText: String
    let table: String

    /// - Throws: `BackfillError` `.invalidInput` naming the state store when the run is unknown,
    ///   has no stored spec, wrote to anything but a SQLite or PostgreSQL table, or was not journaled.
    static func open(_ run: Int64, statePath: String) async throws -> JournaledRun {
        let (state, record) = try await JobWiring.openRun(run, statePath: statePath)
        let location = Redaction.redact(statePath)
        guard let text = try await state.specText(runID: run) else {
            throw BackfillError(.invalidInput, "run \(run) has no stored spec (it was started by an older version), so its journal cannot be found", location: location)
        }
        let spec = try SpecLoader.parseStored(text, run: run, environment: ProcessInfo.processInfo.environment).spec
        guard let journaled = found(record, spec: spec, specText: text, state: state) else {
            if spec.events != nil {
                throw BackfillError(
                    .invalidInput, "run \(run) sent events to a \(spec.target.kind.rawValue) target: events sent cannot be taken back",
                    location: location)
            }
            if spec.target.kind != .postgres && spec.target.kind != .sqlite {
                throw BackfillError(
                    .invalidInput, "run \(run) wrote to a \(spec.target.kind.rawValue) target, which keeps no journal (only SQLite and PostgreSQL tables do)",
                    location: location)
            }
            throw BackfillError(
                .invalidInput, "run \(run) was not journaled (journal: off, or started by an earlier version), so there is nothing to take it back from",
                location: location)
        }
        return journaled
    }

    /// The journaled run `record` started with `spec` (stored as `specText`), or `nil` when the
    /// spec kept no journal.
    static func found(_ record: RunRecord, spec: JobSpec, specText: String, state: any StateStore) -> JournaledRun? {
        guard spec.events == nil, spec.journal.isOn, spec.target.kind == .postgres || spec.target.kind == .sqlite,
            let table = spec.target.table
        else { return nil }
        return JournaledRun(state: state, record: record, spec: spec, specText: specText, table: table)
    }

    /// The target's journal, and what closes its connection.
    func openJournal() async throws -> (journal: any RunJournal, close: @Sendable () -> Void) {
        switch spec.target.kind {
        case .sqlite:
            return (try SQLiteJournal(path: spec.resolve(path: spec.target.location), table: table, key: spec.key), {})
        default:
            let database = try await PostgresDatabase.connect(
                spec.target.location, maxConnections: 3,
                timeouts: PostgresTimeouts(lock: spec.limits.lockTimeout, statement: spec.limits.statementTimeout))
            return (PostgresJournal(database: database, table: table, key: spec.key), { database.close() })
        }
    }

    /// Refuses a run whose journal at the spec's target lacks its entries although it changed rows:
    /// the stored spec now names another table or database (a `${VAR}` pointing elsewhere, a file
    /// replaced) than the one the run wrote.
    func checkTarget(_ summary: JournalSummary) throws {
        let changed = record.counters.inserted + record.counters.updated
        guard summary.entries == 0, changed > 0 else { return }
        throw BackfillError(
            .invalidInput,
            "the journal of \(spec.target.kind.rawValue) table \(table) holds no entry of run \(record.id), which changed \(changed) rows: the spec's target names another table or database than the one the run wrote (or its journal was pruned); nothing was changed",
            location: Redaction.redact(spec.target.location))
    }
}
