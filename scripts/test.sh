#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing (SQLite headers, PostgreSQL), starts a
# throwaway PostgreSQL cluster on 127.0.0.1 as a non-root user, builds, runs `swift test`, and
# stops the cluster whatever happens; then the short form of the fault suite (scripts/chaos.sh,
# on clusters of its own). Arguments go to `swift test` (and skip the fault suite).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/postgres.sh

[ -e /usr/include/sqlite3.h ] || apt_install libsqlite3-dev sqlite3
pg_setup

pg_dir=$(mktemp -d /tmp/backfill-pg.XXXXXX)
pg_port=$(free_port)

stop_cluster() {
  pg_stop "$pg_dir"
  rm -rf "$pg_dir"
}
trap stop_cluster EXIT

pg_start "$pg_dir" "$pg_port"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"

export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT="$pg_port" POSTGRES_USER=postgres POSTGRES_DB=postgres
export PATH="$pg_bin:$PATH"

swift build
swift test "$@"
if [ $# -eq 0 ]; then scripts/chaos.sh --short; fi
