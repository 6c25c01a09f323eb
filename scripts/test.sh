#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing (SQLite and zlib headers, zstd, PostgreSQL, MariaDB), starts
# a throwaway PostgreSQL cluster and MariaDB server on 127.0.0.1 as non-root users, builds, runs `swift test`, and
# stops the cluster whatever happens; then the short form of the fault suite (scripts/chaos.sh,
# on clusters of its own). Installs Chromium too (while the build runs) for the dashboard's
# browser test, which then must run: BACKFILL_REQUIRE_BROWSER=1. Its screenshot is kept at
# .build/artifacts/dashboard.png. Then the API check against docs/openapi.yaml (schemathesis), a short
# fuzzing run of every parser, and the short fault suite. Arguments go to `swift test` (and skip those);
# without them the suites run in four phases (in-process, binary on PostgreSQL, binary on SQLite,
# server and browser).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/postgres.sh
source scripts/lib/mariadb.sh

[ -e /usr/include/sqlite3.h ] || apt_install libsqlite3-dev sqlite3
# zlib's headers build the gzip reader; the gzip and zstd tools (and libzstd, loaded at run time)
# make and read the compressed export parts the tests use.
[ -e /usr/include/zlib.h ] || apt_install zlib1g-dev
command -v gzip >/dev/null || apt_install gzip
{ command -v zstd >/dev/null && ldconfig -p | grep -q 'libzstd\.so\.1'; } || apt_install zstd libzstd1
pg_setup
# MariaDB's server for the MySQL suites, and its client library, which backfill loads at run time.
maria_setup

pg_dir=$(mktemp -d /tmp/backfill-pg.XXXXXX)
pg_port=$(free_port)
maria_dir=$(mktemp -d /tmp/backfill-maria.XXXXXX)
maria_port=$(free_port)
replica_dir=$(mktemp -d /tmp/backfill-maria-replica.XXXXXX)
replica_port=$(free_port)

stop_cluster() {
  pg_stop "$pg_dir"
  maria_stop "$replica_dir"
  maria_stop "$maria_dir"
  rm -rf "$pg_dir" "$maria_dir" "$replica_dir"
}
trap stop_cluster EXIT

# The binary suites run many processes at once, each with its own connection pool.
pg_start "$pg_dir" "$pg_port" -c max_connections=400
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"

export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT="$pg_port" POSTGRES_USER=postgres POSTGRES_DB=postgres
# With a replica, for health.replica-lag (its own tests stop and start its applier).
maria_start "$maria_dir" "$maria_port" --log-bin=binlog --server-id=1 --binlog-format=ROW
maria_replica "$replica_dir" "$replica_port" "$maria_port"
echo "MariaDB $("$maria_bin/mariadbd" --version | awk '{print $3}') on 127.0.0.1:$maria_port, its replica on 127.0.0.1:$replica_port"
export MYSQL_HOST=127.0.0.1 MYSQL_PORT="$maria_port" MYSQL_USER=root MYSQL_REPLICA_PORT="$replica_port"
export PATH="$pg_bin:$PATH"

# Chromium downloads while the build compiles; the browser test fails if it did not install.
browser_log=$(mktemp /tmp/backfill-chromium.XXXXXX)
browser_install=
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && ! command -v google-chrome >/dev/null; then
  apt_install_browser() { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; }
  apt_install_browser >"$browser_log" 2>&1 &
  browser_install=$!
fi

swift build --build-tests
if [ -n "$browser_install" ] && ! wait "$browser_install"; then
  echo "installing Chromium failed (the dashboard's browser test will fail):" >&2
  tail -5 "$browser_log" >&2
fi
rm -f "$browser_log"
export BACKFILL_REQUIRE_BROWSER=1
if [ $# -gt 0 ]; then
  swift test "$@"
else
  # Four phases: the in-process suites (the runner on real SQLite files and PostgreSQL, parsers,
  # planner), then the suites that drive the real binary against PostgreSQL, then those that drive
  # it on SQLite files, then the server and browser suites. Run together, the dozens of child
  # processes of the binary suites starve the other suites' async tasks on 2 cores (connections
  # time out, Chromium goes unanswered, trivial tests pass their time limits).
  swift test --skip-build --filter '^(BackfillCoreTests|BackfillSQLiteTests|BackfillFilesTests|BackfillHTTPTests|BackfillPostgresTests|BackfillMySQLTests)\.'
  swift test --skip-build --filter '^BackfillCLITests\.(Postgres[A-Za-z]*Tests|TypeMatrixTests)'
  swift test --skip-build --filter '^BackfillCLITests\.' --skip '^BackfillCLITests\.(Postgres[A-Za-z]*Tests|TypeMatrixTests|ServeTests|DashboardBrowserTests)'
  swift test --skip-build --filter '^BackfillCLITests\.(ServeTests|DashboardBrowserTests)'
fi
if [ -f .build/artifacts/dashboard.png ]; then echo "dashboard screenshot (browser test): $(pwd)/.build/artifacts/dashboard.png"; fi
if [ $# -eq 0 ]; then
  scripts/api-check.sh                 # schemathesis against a live `backfill serve` and docs/openapi.yaml
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}" # each parser fuzzed briefly (scripts/fuzz.sh 600 for the long run)
  scripts/chaos.sh --short
fi
