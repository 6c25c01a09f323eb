import BackfillCore

/// The PostgreSQL state store's tables in schema `backfill`, created (and brought up to date) by
/// `PostgresStateStore.open(_:create:)`: every statement is idempotent, so stores created by an
/// older version gain the columns added since.
enum PostgresStateSchema {
    static var statements: [String] {
        let counters = Counters.columnNames.map { "\($0) bigint NOT NULL DEFAULT 0" }.joined(separator: ", ")
        return [
            "CREATE SCHEMA IF NOT EXISTS backfill",
            """
            CREATE TABLE IF NOT EXISTS backfill.runs (
              id bigserial PRIMARY KEY, job text NOT NULL, fingerprint text NOT NULL, status text NOT NULL, reason text,
              created_at double precision NOT NULL, updated_at double precision NOT NULL, finished_at double precision,
              active_seconds double precision NOT NULL DEFAULT 0, chunks_total integer NOT NULL,
              chunks_done integer NOT NULL DEFAULT 0, estimated_rows bigint NOT NULL, owner text, \(counters),
              knobs text, waits text, batch_size integer, last_verification text)
            """,
            "CREATE INDEX IF NOT EXISTS runs_by_job ON backfill.runs (job, id)",
            """
            CREATE TABLE IF NOT EXISTS backfill.chunks (
              id bigserial PRIMARY KEY, run_id bigint NOT NULL REFERENCES backfill.runs (id), idx integer NOT NULL,
              range text NOT NULL, estimated_rows bigint NOT NULL, status text NOT NULL, cursor text, \(counters),
              UNIQUE (run_id, idx))
            """,
            // Leases and checkpoint fencing (`CheckpointFence`), added to stores created before them.
            """
            ALTER TABLE backfill.chunks ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 0,
              ADD COLUMN IF NOT EXISTS last_checkpoint text, ADD COLUMN IF NOT EXISTS lease_owner text,
              ADD COLUMN IF NOT EXISTS lease_until double precision,
              ADD COLUMN IF NOT EXISTS split_requested boolean NOT NULL DEFAULT false
            """,
            "ALTER TABLE backfill.runs ADD COLUMN IF NOT EXISTS spec text",
            // Rows and bytes shipped from the source, added to stores created before them.
            """
            ALTER TABLE backfill.runs ADD COLUMN IF NOT EXISTS shipped_rows bigint NOT NULL DEFAULT 0,
              ADD COLUMN IF NOT EXISTS shipped_bytes bigint NOT NULL DEFAULT 0
            """,
            """
            ALTER TABLE backfill.chunks ADD COLUMN IF NOT EXISTS shipped_rows bigint NOT NULL DEFAULT 0,
              ADD COLUMN IF NOT EXISTS shipped_bytes bigint NOT NULL DEFAULT 0
            """,
            """
            CREATE TABLE IF NOT EXISTS backfill.ledger (
              job text NOT NULL, event_id text NOT NULL, at double precision NOT NULL, PRIMARY KEY (job, event_id))
            """,
            """
            CREATE TABLE IF NOT EXISTS backfill.quarantine (
              id bigserial PRIMARY KEY, run_id bigint NOT NULL REFERENCES backfill.runs (id), chunk_idx integer NOT NULL,
              key text, line bigint, error_type text NOT NULL, reason text NOT NULL, row text, raw text,
              at double precision NOT NULL, resolved_at double precision)
            """,
            "CREATE INDEX IF NOT EXISTS quarantine_by_run ON backfill.quarantine (run_id, id)",
            """
            CREATE TABLE IF NOT EXISTS backfill.events (
              id bigserial PRIMARY KEY, run_id bigint NOT NULL REFERENCES backfill.runs (id),
              at double precision NOT NULL, kind text NOT NULL, message text NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS events_by_run ON backfill.events (run_id, id)",
            """
            CREATE TABLE IF NOT EXISTS backfill.samples (
              run_id bigint NOT NULL REFERENCES backfill.runs (id), at double precision NOT NULL, \(counters),
              active_seconds double precision NOT NULL, batch_size integer, chunks_done integer NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS samples_by_run ON backfill.samples (run_id, at)",
            """
            ALTER TABLE backfill.samples ADD COLUMN IF NOT EXISTS shipped_rows bigint NOT NULL DEFAULT 0,
              ADD COLUMN IF NOT EXISTS shipped_bytes bigint NOT NULL DEFAULT 0
            """,
            // Bytes of hashes each side sent, added to stores created before them.
            """
            ALTER TABLE backfill.runs ADD COLUMN IF NOT EXISTS source_hash_bytes bigint NOT NULL DEFAULT 0,
              ADD COLUMN IF NOT EXISTS target_hash_bytes bigint NOT NULL DEFAULT 0
            """,
            """
            ALTER TABLE backfill.chunks ADD COLUMN IF NOT EXISTS source_hash_bytes bigint NOT NULL DEFAULT 0,
              ADD COLUMN IF NOT EXISTS target_hash_bytes bigint NOT NULL DEFAULT 0
            """,
            // Which claim leased the chunk, so that a claim whose answer a dropped connection lost finds its chunk.
            "ALTER TABLE backfill.chunks ADD COLUMN IF NOT EXISTS claim text",
            """
            ALTER TABLE backfill.samples ADD COLUMN IF NOT EXISTS source_hash_bytes bigint NOT NULL DEFAULT 0,
              ADD COLUMN IF NOT EXISTS target_hash_bytes bigint NOT NULL DEFAULT 0
            """,
        ]
    }
}
