-- The PostgreSQL side of the cross-engine benchmark: the SQLite benchmark's events table
-- (Benchmarks/sqlite/make-data.sh) in PostgreSQL's own types.
DROP TABLE IF EXISTS events;
CREATE TABLE events (
  id bigint PRIMARY KEY,
  account_id integer NOT NULL,
  kind text NOT NULL,
  payload json,
  amount double precision,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
