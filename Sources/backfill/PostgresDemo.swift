import BackfillCore
import BackfillPostgres
import BackfillSQLite
import Foundation

/// `backfill demo --postgres DSN`: the demo's SQLite primary replayed into a PostgreSQL replica.
enum PostgresDemo {
    static let table = "backfill_demo_orders"

    /// Recreates the PostgreSQL replica table and fills it with the damaged SQLite replica's rows,
    /// through `backfill` itself (a plain run from `replica.db`).
    static func loadReplica(dsn: String, folder: String) async throws {
        let database = try await PostgresDatabase.connect(dsn)
        defer { database.close() }
        try await database.execute("DROP TABLE IF EXISTS \(table)")
        try await database.execute("""
            CREATE TABLE \(table) (
                id bigint PRIMARY KEY, customer_id bigint NOT NULL, status text NOT NULL,
                total_cents bigint NOT NULL, note text, updated_at text NOT NULL)
            """)
        let specPath = folder + "/load-replica.yaml"
        try """
            name: demo-load-replica
            source: { sqlite: replica.db, table: orders }
            target: { postgres: "\(dsn)", table: \(table) }
            key: [id]
            batch: { size: 10000 }
            state: .backfill/load.db
            """.write(toFile: specPath, atomically: true, encoding: .utf8)
        try await JobWiring.withPrepared(specPath: specPath, checkKey: false) { prepared in
            let state = try await JobWiring.stateStore(for: prepared.spec, create: true)
            let (run, _) = try await RunStarter(state: state.store).startOrResume(spec: prepared.spec) {
                try await prepared.source.plan(workers: prepared.spec.workers)
            }
            _ = try await JobWiring.runner(
                prepared, state: state, configuration: RunnerConfiguration(spec: prepared.spec), logger: LogBootstrap.logger()
            ).execute(run: run)
        }
    }

    /// The demo spec with the PostgreSQL replica as its target.
    static func spec(dsn: String) -> String {
        """
        # Written by `backfill demo --postgres`.
        name: demo-orders-postgres
        source: { sqlite: primary.db, table: orders }
        target: { postgres: "\(dsn)", table: \(table) }
        key: [id]
        mode: upsert
        conflict: { newer-wins: updated_at }
        batch: { size: 5000 }
        workers: 2

        """
    }

    /// The spec with its target read back as a source, for the reconciliation.
    static func targetAsSource(_ spec: JobSpec) -> JobSpec {
        var reading = spec
        reading.source = spec.target
        return reading
    }
}
