#!/usr/bin/env bash
# Builds the SQLite benchmark data: DIR/primary.db with N events and DIR/damaged.db, a copy
# damaged like ../shared/peers/gen.sh damages its PostgreSQL copy: a contiguous 10% id gap,
# ~1% stale rows (amount + 1, updated_at 30 days older) and ~0.1% deleted rows.
set -euo pipefail
n=${1:?usage: make-data.sh N DIR}
dir=${2:?usage: make-data.sh N DIR}
mkdir -p "$dir"
rm -f "$dir/primary.db" "$dir/damaged.db"
sqlite3 "$dir/primary.db" <<SQL
PRAGMA journal_mode = WAL;
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT,
  amount REAL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
INSERT INTO events
SELECT i,
       1 + (i * 7919) % 50000,
       CASE i % 5 WHEN 0 THEN 'signup' WHEN 1 THEN 'purchase' WHEN 2 THEN 'refund' WHEN 3 THEN 'login' ELSE 'logout' END,
       CASE WHEN i % 100 = 7 THEN NULL
            ELSE json_object('ip', '10.' || (i % 256) || '.' || (i * 7 % 256) || '.1', 'agent', 'bench/1.0', 'seq', i, 'ok', json('true')) END,
       CASE WHEN i % 100 = 11 THEN NULL ELSE round((i * 37 % 100000) / 100.0, 2) END,
       strftime('%Y-%m-%dT%H:%M:%SZ', 1735689600 + i * 3, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%SZ', 1735689600 + i * 3 + 60, 'unixepoch')
FROM s;
CREATE INDEX events_by_account ON events (account_id);
VACUUM INTO '$dir/damaged.db';
SQL
gap_lo=$(( n * 45 / 100 + 1 )); gap_hi=$(( n * 55 / 100 ))
sqlite3 "$dir/damaged.db" <<SQL
PRAGMA journal_mode = WAL;
DELETE FROM events WHERE id BETWEEN $gap_lo AND $gap_hi;
DELETE FROM events WHERE id % 1000 = 17;
UPDATE events SET amount = amount + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', updated_at, '-30 days') WHERE id % 100 = 3;
SQL
echo "primary: $n rows; damaged: gap $gap_lo..$gap_hi, ~0.1% deleted, ~1% stale"
