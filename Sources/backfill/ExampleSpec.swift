/// The commented spec `backfill init` writes.
enum ExampleSpec {
    static let text = """
        # backfill job spec. Reference: README.md, "Spec reference".
        name: orders-after-outage

        # The source of truth: a SQLite or PostgreSQL table, or an export {csv: PATH} / {jsonl: PATH}.
        #   source: { postgres: "postgres://app:${PGPASSWORD}@db:5432/shop", table: orders }
        source: { sqlite: data/primary.db, table: orders }
        # The damaged target: a SQLite or PostgreSQL table.
        target: { sqlite: data/replica.db, table: orders }

        # The stable key rows are matched on; may be composite: [tenant_id, id].
        key: [id]
        # Columns to copy; leave out to copy every column source and target share.
        columns: [id, customer_id, status, total_cents, updated_at]

        # upsert | insert-missing | update-existing | update-in-place (PostgreSQL, with set: {column: SQL})
        mode: upsert
        # Never replace a target row whose version column is newer (live traffic wins).
        conflict: { newer-wins: updated_at }

        # Which source rows: a condition, and/or key bounds [from, to).
        # range: { where: "updated_at >= '2026-11-01'", from: 1, to: 500000 }

        batch: { size: 1000 }
        workers: 2
        # limits: { rows-per-second: 5000, max-error-rate: 0.05, retries: 8, lock-timeout: 2s }

        # Secrets come from the environment: ${VAR}.
        # state: .backfill/state.db   (default, beside this file; or a postgres:// DSN)

        """
}
