#!/usr/bin/env bash
# Benchmarks, each against a baseline measured in the same run on the same data.
#
#   scripts/bench.sh sqlite [N]   backfill run SQLite → damaged SQLite replica vs the limit: the sqlite3
#                                 shell doing ATTACH + one INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE … IS NOT …;
#                                 then the cost per batch: batch sizes 500, 1000, 20,000 on 200,000 rows vs the
#                                 same upsert in transactions of the same size (scripts/bench.sh sqlite-batches)
#   scripts/bench.sh verify [N]   backfill verify with ~1% scattered damage vs a hand check (sqlite3 EXCEPT)
#   scripts/bench.sh verify-postgres [N]
#                                 backfill verify on PostgreSQL tables (the events of ../shared/peers/gen.sh) vs
#                                 reladiff 0.6.0 (hashdiff), the peers' hand-written bucket-md5 script and one
#                                 dblink FULL JOIN, on the peers' damage (11%) and on ~1% scattered damage; every
#                                 tool's differing ids checked against the ground truth
#   scripts/bench.sh postgres [N] backfill run PostgreSQL → damaged PostgreSQL (the events table and damage of
#                                 ../shared/peers/gen.sh) vs (a) the COPY limit and (a2) the best hand-written
#                                 script (../shared/peers scenarios a_limit and b_handsql MERGE_MODE=prefilter),
#                                 all in one cluster in one run; then the rerun
#   scripts/bench.sh workers [N]  1, 2 and 4 `backfill worker` processes sharing a PostgreSQL state store on the
#                                 data of `postgres`, against the COPY limit, and one process with a SQLite state
#   scripts/bench.sh events [N]   events/s replayed to a local webhook receiver at concurrency 1, 8, 64 without
#                                 faults, and with #19's outage (500s, 429 + Retry-After, 3 s down) and the mixed
#                                 faults (500s, 429s, answers slower than the timeout); peak RSS at 1M events
#   scripts/bench.sh controls     the overhead of every live-traffic control with generous limits, and the
#                                 rate achieved under a rows-per-second limit over ~30 s
#   scripts/bench.sh cross [N]    SQLite → PostgreSQL and PostgreSQL → SQLite with 1% scattered damage
#                                 (Benchmarks/cross): the hash diff against the row path (the same job with
#                                 `range.where: 1 = 1`, which has no diff), each repairing the same damage in
#                                 the same run; then the rerun on the repaired target
#   scripts/bench.sh journal sqlite|postgres [N]
#                                 the journal's cost: `backfill run` journaled (the default) against
#                                 `journal: off`, three rounds each way, alternating; the journal's size;
#                                 `backfill undo` of the last run, checked to restore the target exactly
#   scripts/bench.sh parts [N]    a warehouse export of N rows in 8 gzipped CSV parts into a new PostgreSQL
#                                 table: `backfill run` (the spec `init --from` writes: create: true, 2 workers)
#                                 against `zcat parts | psql
#                                 \copy` into an empty table of the same shape, two rounds each, alternating;
#                                 both tables checked equal
#   scripts/bench.sh live [N]     pgbench on the target alone, then beside backfill (full speed, the defaults,
#                                 a WAL budget): pgbench's TPS and p99 while each backfill ran; then backfill
#                                 alone on the target with the defaults against full speed
#   scripts/bench.sh mysql [N]    MariaDB → MariaDB on the peers' table shape and damage (a 10% gap, 0.1% lost, 1%
#                                 stale; Benchmarks/mysql/gen.sql), in one run on one server: `backfill run` into
#                                 the damaged copy against the limit, `mysqldump --no-create-info | mariadb` into an
#                                 empty table; the rerun; `backfill verify` against Percona's pt-table-checksum of
#                                 both tables; `backfill verify --repair` and `backfill run` against pt-table-sync
#                                 --execute; each repair checked by the server's own join (rows left differing)
#
# Data and results go to bench-data/ (gitignored). Release build in .build-release.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need() {
  command -v "$1" >/dev/null 2>&1 && return
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need sqlite3 sqlite3
[ -x /usr/bin/time ] || need /usr/bin/time time

now() { date +%s.%N; }
seconds() { python3 -c "print(f'{$2 - $1:.2f}')"; }

build_release() {
  swift build -c release --scratch-path .build-release --product backfill >&2
  echo "$root/.build-release/release/backfill"
}

bench_sqlite() {
  local n=${1:-1000000}
  local dir="$root/bench-data/sqlite-$n"
  local bin; bin=$(build_release)
  if [ ! -f "$dir/primary.db" ] || [ ! -f "$dir/damaged.db" ]; then
    Benchmarks/sqlite/make-data.sh "$n" "$dir" >&2
  fi
  cp Benchmarks/sqlite/job.yaml "$dir/job.yaml"
  local cols="account_id kind payload amount created_at updated_at"
  local set_list="" lhs="" rhs=""
  for c in $cols; do set_list+="$c = excluded.$c, "; lhs+="events.$c, "; rhs+="excluded.$c, "; done
  set_list=${set_list%, }; lhs=${lhs%, }; rhs=${rhs%, }

  # (a) the limit: one statement in the sqlite3 shell.
  cp "$dir/damaged.db" "$dir/limit.db"
  local t0 t1; t0=$(now)
  /usr/bin/time -f "%M" -o "$dir/limit.rss" sqlite3 "$dir/limit.db" \
    "ATTACH '$dir/primary.db' AS src; INSERT INTO main.events SELECT * FROM src.events WHERE true
     ON CONFLICT (id) DO UPDATE SET $set_list WHERE ($lhs) IS NOT ($rhs);"
  t1=$(now); local limit_s; limit_s=$(seconds "$t0" "$t1")

  # (a2) the same statement in transactions of the job's batch size (20,000 rows), as a script
  # running beside live traffic would have to: short transactions, each committing its own index pages.
  cp "$dir/damaged.db" "$dir/limit.db"; rm -f "$dir/limit.db-wal" "$dir/limit.db-shm"
  local lo=0
  echo "ATTACH '$dir/primary.db' AS src;" > "$dir/batched.sql"
  while [ "$lo" -lt "$n" ]; do
    echo "BEGIN IMMEDIATE; INSERT INTO main.events SELECT * FROM src.events WHERE id > $lo AND id <= $((lo + 20000)) ORDER BY id
      ON CONFLICT (id) DO UPDATE SET $set_list WHERE ($lhs) IS NOT ($rhs); COMMIT;" >> "$dir/batched.sql"
    lo=$((lo + 20000))
  done
  t0=$(now)
  sqlite3 "$dir/limit.db" < "$dir/batched.sql"
  t1=$(now); local batched_s; batched_s=$(seconds "$t0" "$t1")
  rm -f "$dir/limit.db" "$dir/limit.db-wal" "$dir/limit.db-shm"

  # (b) backfill run into a fresh damaged copy, (c) the rerun against the repaired target.
  cp "$dir/damaged.db" "$dir/target.db"; rm -rf "$dir/.backfill" "$dir/target.db-wal" "$dir/target.db-shm"
  t0=$(now)
  (cd "$dir" && /usr/bin/time -f "%M" -o run.rss "$bin" run job.yaml --json > run.json)
  t1=$(now); local run_s; run_s=$(seconds "$t0" "$t1")
  t0=$(now)
  (cd "$dir" && /usr/bin/time -f "%M" -o rerun.rss "$bin" run job.yaml --json > rerun.json)
  t1=$(now); local rerun_s; rerun_s=$(seconds "$t0" "$t1")

  local diff
  diff=$(sqlite3 "$dir/target.db" "ATTACH '$dir/primary.db' AS src;
    SELECT (SELECT count(*) FROM (SELECT * FROM src.events EXCEPT SELECT * FROM main.events))
         + (SELECT count(*) FROM (SELECT * FROM main.events EXCEPT SELECT * FROM src.events));")
  local result=PASS; [ "$diff" = 0 ] || result="FAIL ($diff rows differ)"
  python3 - "$n" "$limit_s" "$batched_s" "$run_s" "$rerun_s" "$(cat "$dir/run.rss")" "$(cat "$dir/rerun.rss")" "$dir/run.json" "$dir/rerun.json" "$result" <<'PY'
import json, sys
n, limit_s, batched_s, run_s, rerun_s = (float(x) for x in sys.argv[1:6])
n = int(n)
run_rss, rerun_rss = int(sys.argv[6]) / 1024, int(sys.argv[7]) / 1024
run, rerun = json.load(open(sys.argv[8])), json.load(open(sys.argv[9]))
c, r = run["counters"], rerun["counters"]
print("| N | (a) limit: one sqlite3 statement | (a2) same, 20k-row transactions | (b) backfill run | b/a | b/a2 | (c) rerun | peak RSS b / c | rows written b / c | target = source |")
print("|---|---|---|---|---|---|---|---|---|---|")
rate = lambda s: f"{s:.2f} s ({n / s:,.0f} rows/s)"
print(f"| {n:,} | {rate(limit_s)} | {rate(batched_s)} | {rate(run_s)} | {limit_s / run_s:.0%} | {batched_s / run_s:.0%} "
      f"| {rate(rerun_s)} | {run_rss:.0f} / {rerun_rss:.0f} MB "
      f"| {c['inserted'] + c['updated']:,} / {r['inserted'] + r['updated']:,} | {sys.argv[10]} |")
PY
  bench_sqlite_batches "$bin"
}

# The cost per batch: backfill run (the job of `sqlite`, 2 workers) at batch sizes 500, 1000 and
# 20,000 on 200,000 rows against the sqlite3 shell running the a2 upsert in transactions of the same
# size, on the same damaged copy, in the same run; the median of 3 alternating runs each.
bench_sqlite_batches() {
  local n=200000 bin=$1
  local dir="$root/bench-data/sqlite-$n"
  if [ ! -f "$dir/primary.db" ] || [ ! -f "$dir/damaged.db" ]; then
    Benchmarks/sqlite/make-data.sh "$n" "$dir" >&2
  fi
  local cols="account_id kind payload amount created_at updated_at"
  local set_list="" lhs="" rhs=""
  for c in $cols; do set_list+="$c = excluded.$c, "; lhs+="events.$c, "; rhs+="excluded.$c, "; done
  set_list=${set_list%, }; lhs=${lhs%, }; rhs=${rhs%, }
  echo
  echo "| batch | (s) sqlite3: same upsert, same-size transactions | (b) backfill run, 2 workers | b/s | our work per batch |"
  echo "|---|---|---|---|---|"
  local size round t0 t1
  for size in 500 1000 20000; do
    local lo=0
    echo "ATTACH '$dir/primary.db' AS src;" > "$dir/sweep.sql"
    while [ "$lo" -lt "$n" ]; do
      echo "BEGIN IMMEDIATE; INSERT INTO main.events SELECT * FROM src.events WHERE id > $lo AND id <= $((lo + size)) ORDER BY id
        ON CONFLICT (id) DO UPDATE SET $set_list WHERE ($lhs) IS NOT ($rhs); COMMIT;" >> "$dir/sweep.sql"
      lo=$((lo + size))
    done
    sed "s/^name: .*/name: sweep-$size/; s/^batch: .*/batch: { size: $size, max: $size }/" Benchmarks/sqlite/job.yaml > "$dir/sweep.yaml"
    local shell_times="" run_times=""
    # Five paired rounds, medians: single runs on a shared VM disk vary by ±25%.
    for round in 1 2 3 4 5; do
      cp "$dir/damaged.db" "$dir/sweep.db"; rm -f "$dir/sweep.db-wal" "$dir/sweep.db-shm"
      t0=$(now); sqlite3 "$dir/sweep.db" < "$dir/sweep.sql"; t1=$(now)
      shell_times+="$(seconds "$t0" "$t1") "
      cp "$dir/damaged.db" "$dir/target.db"; rm -rf "$dir/.backfill" "$dir/target.db-wal" "$dir/target.db-shm"
      t0=$(now); (cd "$dir" && "$bin" run sweep.yaml --json > sweep.json); t1=$(now)
      run_times+="$(seconds "$t0" "$t1") "
    done
    local diff
    diff=$(sqlite3 "$dir/target.db" "ATTACH '$dir/primary.db' AS src;
      SELECT (SELECT count(*) FROM (SELECT * FROM src.events EXCEPT SELECT * FROM main.events))
           + (SELECT count(*) FROM (SELECT * FROM main.events EXCEPT SELECT * FROM src.events));")
    python3 - "$n" "$size" "$shell_times" "$run_times" "$diff" <<'PY'
import statistics, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
shell = statistics.median(float(x) for x in sys.argv[3].split())
run = statistics.median(float(x) for x in sys.argv[4].split())
batches = -(-n // size)
ok = "" if sys.argv[5] == "0" else f" (FAIL: {sys.argv[5]} rows differ)"
print(f"| {size:,} | {shell:.2f} s | {run:.2f} s{ok} | {run / shell:.2f}× | {(run - shell) / batches * 1000:.2f} ms |")
PY
  done
  rm -f "$dir/sweep.db" "$dir/sweep.db-wal" "$dir/sweep.db-shm"
}

# The control stack's cost and precision on the SQLite data of `bench sqlite 1000000`:
# (u) no controls vs (c) every control on with generous limits, 3 runs each, alternating (median);
# then a rows-per-second limit over a ~30 s run, achieved vs asked.
bench_controls() {
  local n=1000000
  local dir="$root/bench-data/sqlite-$n"
  local bin; bin=$(build_release)
  if [ ! -f "$dir/primary.db" ] || [ ! -f "$dir/damaged.db" ]; then
    Benchmarks/sqlite/make-data.sh "$n" "$dir" >&2
  fi
  sed 's/^name: .*/name: controls-off/' Benchmarks/sqlite/job.yaml > "$dir/off.yaml"
  { sed 's/^name: .*/name: controls-on/' Benchmarks/sqlite/job.yaml; cat Benchmarks/sqlite/controls.yaml; } > "$dir/on.yaml"
  local off=() on=()
  for i in 1 2 3; do
    for mode in off on; do
      cp "$dir/damaged.db" "$dir/target.db"; rm -rf "$dir/.backfill" "$dir/target.db-wal" "$dir/target.db-shm"
      local rate
      rate=$(cd "$dir" && "$bin" run "$mode.yaml" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["rowsPerSecond"])')
      if [ "$mode" = off ]; then off+=("$rate"); else on+=("$rate"); fi
    done
  done
  local limit=33333
  { sed 's/^name: .*/name: controls-rate/' Benchmarks/sqlite/job.yaml; echo "limits: { rows-per-second: $limit }"; } > "$dir/rate.yaml"
  cp "$dir/damaged.db" "$dir/target.db"; rm -rf "$dir/.backfill" "$dir/target.db-wal" "$dir/target.db-shm"
  (cd "$dir" && "$bin" run rate.yaml --json 2>/dev/null > rate.json)
  python3 - "${off[*]}" "${on[*]}" "$limit" "$dir/rate.json" <<'PY'
import json, statistics, sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
limit = float(sys.argv[3])
rate = json.load(open(sys.argv[4]))
u, c = statistics.median(off), statistics.median(on)
print("| measurement | result |")
print("|---|---|")
print(f"| (u) no controls, rows/s (3 runs) | {', '.join(f'{x:,.0f}' for x in off)} — median {u:,.0f} |")
print(f"| (c) every control on, generous limits, rows/s (3 runs) | {', '.join(f'{x:,.0f}' for x in on)} — median {c:,.0f} |")
print(f"| overhead of the control stack (1 − c/u) | {1 - c / u:.1%} |")
achieved = rate["rowsPerSecond"]
print(f"| rows-per-second: {limit:,.0f} over {rate['seconds']:.1f} s, achieved | {achieved:,.0f} rows/s ({achieved / limit - 1:+.1%}) |")
PY
}

# backfill verify on SQLite tables with ~1% scattered damage, next to a hand-written check in the
# same run: the sqlite3 shell counting `EXCEPT` both ways (which finds rows but not their kind).
bench_verify() {
  local n=${1:-1000000}
  local dir="$root/bench-data/verify-$n"
  local bin; bin=$(build_release)
  if [ ! -f "$dir/primary.db" ]; then
    Benchmarks/sqlite/make-data.sh "$n" "$dir" >&2
    rm -f "$dir/damaged.db"
  fi
  cp "$dir/primary.db" "$dir/target.db"; rm -f "$dir/target.db-wal" "$dir/target.db-shm"
  local injected
  injected=$(sqlite3 "$dir/target.db" "
    DELETE FROM events WHERE id % 331 = 7;
    SELECT changes();
    UPDATE events SET amount = coalesce(amount, 0) + 1 WHERE id % 199 = 11;
    SELECT changes();
    UPDATE events SET payload = NULL WHERE id % 997 = 5 AND id % 199 != 11 AND id % 331 != 7 AND payload IS NOT NULL;
    SELECT changes();
    INSERT INTO events SELECT id + $n, account_id, kind, payload, amount, created_at, updated_at FROM events WHERE id % 1000 = 1;
    SELECT changes();" | python3 -c 'import sys; print(sum(int(x) for x in sys.stdin.read().split()))')
  sed 's/^name: .*/name: bench-verify/' Benchmarks/sqlite/job.yaml > "$dir/job.yaml"
  local t0 t1
  t0=$(now)
  local except
  except=$(sqlite3 "$dir/target.db" "ATTACH '$dir/primary.db' AS src;
    SELECT (SELECT count(*) FROM (SELECT * FROM src.events EXCEPT SELECT * FROM main.events))
         + (SELECT count(*) FROM (SELECT * FROM main.events EXCEPT SELECT * FROM src.events));")
  t1=$(now); local except_s; except_s=$(seconds "$t0" "$t1")
  t0=$(now)
  (cd "$dir" && /usr/bin/time -f "%M" -o verify.rss "$bin" verify job.yaml --json --limit 0 > verify.json 2>/dev/null || true)
  t1=$(now); local verify_s; verify_s=$(seconds "$t0" "$t1")
  python3 - "$n" "$injected" "$except_s" "$except" "$verify_s" "$dir/verify.json" "$(tail -1 "$dir/verify.rss")" <<'PY'
import json, sys
n, injected, except_s, except_rows, verify_s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
r = json.load(open(sys.argv[6]))
found = r["missing"] + r["extra"] + r["different"]
rss = int(sys.argv[7]) / 1024
print("| N | injected | hand check: sqlite3 EXCEPT both ways | backfill verify | found (missing / extra / different) | false | peak RSS |")
print("|---|---|---|---|---|---|---|")
print(f"| {n:,} | {injected:,} | {except_s:.2f} s ({except_rows:,} differing row images, no kinds) | {verify_s:.2f} s ({n / verify_s:,.0f} rows/s) "
      f"| {found:,} ({r['missing']:,} / {r['extra']:,} / {r['different']:,}) | {max(0, found - injected):,} | {rss:.0f} MB |")
PY
}

# backfill verify on the PostgreSQL events tables of ../shared/peers against reladiff (in a venv of
# bench-data, installed from PyPI at the version the peers measured), the peers' bucket-md5 script
# and a dblink FULL JOIN, twice: on the peers' damaged copy (10% gap, 1% stale, 0.1% deleted) and on
# a copy of the source with ~1% scattered damage (missing, extra, changed value, value → NULL).
# Each tool's differing ids are compared with the ground truth: found, missed, false.
bench_verify_postgres() {
  local n=${1:-1000000}
  local shared=${BACKFILL_SHARED:-$root/../shared}
  local dir="$root/bench-data/verify-postgres-$n"
  local bin; bin=$(build_release)
  mkdir -p "$dir"
  local venv="$root/bench-data/venv-reladiff"
  if [ ! -x "$venv/bin/reladiff" ]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q "reladiff[postgresql]==0.6.0" >&2
  fi
  # A cluster an interrupted run left behind is stopped first.
  "$shared/peers/pg.sh" stop "${BENCH_PG_PORT:-55461}" "$dir/pgdata" >/dev/null 2>&1 || true
  trap '"$shared/peers/pg.sh" stop "$PGPORT" "$dir/pgdata" >/dev/null 2>&1 || true' RETURN
  peers_cluster "$n" "$dir/results.csv"
  cp Benchmarks/postgres/job.yaml "$dir/job.yaml"
  (
    cd "$dir"
    # shellcheck source=/dev/null
    source "$shared/peers/common.sh"
    export COLUMNS=100000
    q dst_tpl "SELECT 1" >/dev/null
    local url="postgresql://$PGUSER@$PGHOST:$PGPORT"
    for damage in peers scattered; do
      if [ "$damage" = peers ]; then
        reset_dst damaged >/dev/null
        q bench "DROP TABLE IF EXISTS truth; CREATE TABLE truth AS SELECT id FROM damage" >/dev/null
      else
        $PSQL -d postgres -c "DROP DATABASE IF EXISTS dst WITH (FORCE)" -c "CREATE DATABASE dst TEMPLATE src STRATEGY FILE_COPY" >/dev/null
        q dst "DELETE FROM events WHERE id % 331 = 7;
               UPDATE events SET amount = coalesce(amount, 0) + 1 WHERE id % 199 = 11;
               UPDATE events SET payload = NULL WHERE id % 997 = 5 AND id % 199 != 11 AND id % 331 != 7 AND payload IS NOT NULL;
               INSERT INTO events SELECT id + $n, account_id, kind, payload, amount, created_at, updated_at FROM events WHERE id % 1000 = 1" >/dev/null
        q dst "VACUUM (ANALYZE, FREEZE) events" >/dev/null
        q dst "CHECKPOINT" >/dev/null
        # Missing, changed amount, payload → NULL (where it was not NULL: g % 97 = 0), and extra rows.
        q bench "DROP TABLE IF EXISTS truth; CREATE TABLE truth AS
                 SELECT g AS id FROM generate_series(1, $n) g WHERE g % 331 = 7 OR g % 199 = 11 OR (g % 997 = 5 AND g % 97 != 0)
                 UNION ALL SELECT g + $n FROM generate_series(1, $n) g WHERE g % 1000 = 1 AND g % 331 != 7" >/dev/null
      fi
      q bench "SELECT id FROM truth ORDER BY id" > "truth-$damage.ids"
      rm -rf .backfill
      NOTE="backfill verify ($damage damage)" measure "backfill_verify_$damage" first \
        bash -c "'$bin' verify job.yaml --json --limit 100000000 > 'backfill-$damage.json' || [ \$? = 3 ]" >&2
      NOTE="reladiff 0.6.0 hashdiff -j1 --skip-sort-results ($damage damage)" measure "reladiff_$damage" first \
        bash -c "'$venv/bin/reladiff' $url/src events $url/dst events -k id -c '%' -a hashdiff --json --skip-sort-results > 'reladiff-$damage.jsonl'" >&2
      NOTE="psql+awk bucket md5 ($damage damage)" measure "bucketdiff_$damage" first \
        "$shared/peers/scenarios/g_sql_bucketdiff.sh" "$dir/bucketdiff-$damage.ids" >&2
      q dst "CREATE EXTENSION IF NOT EXISTS dblink" >/dev/null
      NOTE="dblink FULL JOIN ($damage damage)" measure "dblink_$damage" first bash -c "$PSQL -At -d dst -c \"
        SELECT coalesce(s.id, d.id) FROM dblink('host=$PGHOST port=$PGPORT user=$PGUSER dbname=src',
            'SELECT id, md5(e::text) FROM events e') AS s(id bigint, h text)
        FULL JOIN (SELECT id, md5(e::text) AS h FROM events e) d ON d.id = s.id
        WHERE s.h IS DISTINCT FROM d.h\" > 'dblink-$damage.ids'" >&2
    done
  )
  python3 - "$dir" "$n" <<'PY'
import csv, json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
rows = {r["scenario"]: r for r in csv.DictReader(open(os.path.join(d, "results.csv")))}
def ids(tool, damage):
    path = os.path.join(d, {"backfill": f"backfill-{damage}.json", "reladiff": f"reladiff-{damage}.jsonl",
                            "bucketdiff": f"bucketdiff-{damage}.ids", "dblink": f"dblink-{damage}.ids"}[tool])
    if not os.path.exists(path) or os.path.getsize(path) == 0: return set()
    if tool == "backfill":
        return {int(x["key"][0]["i"]) for x in json.load(open(path))["differences"]}
    if tool == "reladiff":
        return {int(json.loads(l)[1][0]) for l in open(path) if l.strip()}
    return {int(l.split()[0]) for l in open(path) if l.strip()}
print("| damage | tool | seconds | rows/s | vs reladiff | vs bucket script | differing ids found / injected | missed | false | client peak RSS |")
print("|---|---|---|---|---|---|---|---|---|---|")
for damage in ["peers", "scattered"]:
    truth = {int(l) for l in open(os.path.join(d, f"truth-{damage}.ids")) if l.strip()}
    scenario = lambda tool: f"{'backfill_verify' if tool == 'backfill' else tool}_{damage}"
    s = lambda tool: float(rows[scenario(tool)]["seconds"])
    for tool in ["backfill", "reladiff", "bucketdiff", "dblink"]:
        r = rows[scenario(tool)]
        found = ids(tool, damage)
        name = {"backfill": "backfill verify", "reladiff": "reladiff 0.6.0", "bucketdiff": "hand-written bucket md5", "dblink": "dblink FULL JOIN"}[tool]
        print(f"| {damage} | {name} | {s(tool):.2f} | {n / s(tool):,.0f} | {s('reladiff') / s(tool):.1f}× | {s('bucketdiff') / s(tool):.2f}× "
              f"| {len(found & truth):,} / {len(truth):,} | {len(truth - found):,} | {len(found - truth):,} | {r['client_peak_rss_mb']} MB |")
PY
}

# PostgreSQL → PostgreSQL against the peers' own scripts, in one throwaway cluster (../shared/peers/pg.sh:
# fsync on, shared_buffers 1GB), each timed by the peers' `measure` (wall time, client peak RSS, rows
# written from pg_stat_user_tables, WAL bytes, target = source check).
# Starts the cluster of ../shared/peers for N rows (the caller stops it when it returns), makes
# the data if it is not there, and measures the COPY limit into RESULTS. Uses the caller's
# `dir` and `shared`.
peers_cluster() {
  local n=$1
  need psql postgresql-client
  export BENCH_PG_PORT=${BENCH_PG_PORT:-55461} PGHOST=127.0.0.1 PGUSER=postgres
  export PGPORT=$BENCH_PG_PORT RESULTS=$2 LOGDIR="$dir/logs"
  rm -f "$RESULTS"
  "$shared/peers/pg.sh" start "$PGPORT" "$dir/pgdata" >&2
  if [ "$(psql -X -At -d src -c 'select count(*) from events' 2>/dev/null || echo 0)" != "$n" ]; then
    "$shared/peers/gen.sh" "$n" >&2
  fi
  "$shared/peers/scenarios/a_limit.sh" >&2
}

bench_postgres() {
  local n=${1:-1000000}
  local shared=${BACKFILL_SHARED:-$root/../shared}
  local dir="$root/bench-data/postgres-$n"
  local bin; bin=$(build_release)
  mkdir -p "$dir"
  need bc bc
  trap '"$shared/peers/pg.sh" stop "$PGPORT" "$dir/pgdata" >/dev/null 2>&1 || true' RETURN
  peers_cluster "$n" "$dir/results.csv"
  MERGE_MODE=prefilter "$shared/peers/scenarios/b_handsql.sh" first >&2
  cp Benchmarks/postgres/job.yaml "$dir/job.yaml"
  (
    cd "$dir"
    # shellcheck source=/dev/null
    source "$shared/peers/common.sh"
    reset_dst damaged >/dev/null
    rm -rf .backfill
    NOTE="backfill run" measure backfill first "$bin" run job.yaml --json >&2
    NOTE="backfill run again on the repaired target" measure backfill rerun "$bin" run job.yaml --json >&2
  )
  # Rows the source shipped to backfill in the first run and the rerun (the rest were settled by
  # checksums and row hashes inside both servers).
  local shipped
  shipped=$(sqlite3 "$dir/.backfill/state.db" "SELECT group_concat(shipped_rows, ' ') FROM (SELECT shipped_rows FROM runs ORDER BY id)")
  python3 - "$RESULTS" "$n" "$shipped" <<'PY'
import csv, sys
rows = {(r["scenario"], r["run"]): r for r in csv.DictReader(open(sys.argv[1]))}
n = int(sys.argv[2])
shipped = [int(x) for x in sys.argv[3].split()] + [0, 0]
a, a2 = rows[("a_copy_binary", "first")], rows[("b_handsql_prefilter", "first")]
b, c = rows[("backfill", "first")], rows[("backfill", "rerun")]
s = lambda r: float(r["seconds"])
print("| N | (a) COPY limit | (a2) hand-written prefilter merge | (b) backfill run | b/a | b/a2 | (c) rerun | c time / a time | rows written b / c | WAL MB b / c | peak RSS b / c | target = source |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
rate = lambda r: f"{s(r):.2f} s ({n / s(r):,.0f} rows/s)"
print(f"| {n:,} | {rate(a)} | {rate(a2)} | {rate(b)} | {s(a) / s(b):.0%} | {s(a2) / s(b):.0%} | {rate(c)} | {s(c) / s(a):.0%} "
      f"| {int(b['rows_written']):,} / {int(c['rows_written']):,} | {b['wal_mb']} / {c['wal_mb']} "
      f"| {b['client_peak_rss_mb']} / {c['client_peak_rss_mb']} MB | {b['result']} / {c['result']} |")
print(f"\nrows shipped from the source by backfill: first run {shipped[0]:,}, rerun {shipped[1]:,} "
      f"(rows written by the first run: {int(b['rows_written']):,})")
PY
}

# The journal's cost (#17): `backfill run` with the default journal against `journal: off`, three
# rounds each way, alternating, on the same damage; the journal's size; and `backfill undo` of the
# last journaled run, checked to put the target back exactly as it was.
#   scripts/bench.sh journal sqlite|postgres [N]
bench_journal() {
  local engine=${1:-sqlite} n=${2:-1000000}
  local shared=${BACKFILL_SHARED:-$root/../shared}
  local bin; bin=$(build_release)
  local dir
  case "$engine" in
    sqlite)
      dir="$root/bench-data/sqlite-$n"
      [ -f "$dir/primary.db" ] && [ -f "$dir/damaged.db" ] || Benchmarks/sqlite/make-data.sh "$n" "$dir" >&2
      cp Benchmarks/sqlite/job.yaml "$dir/job.yaml"
      reset() { cp "$dir/damaged.db" "$dir/target.db"; rm -rf "$dir/.backfill" "$dir/target.db-wal" "$dir/target.db-shm"; }
      # Every row, each value quoted by its storage class.
      target_fingerprint() { sqlite3 -readonly -cmd ".mode quote" "$dir/target.db" "SELECT * FROM events ORDER BY id" | md5sum; }
      ;;
    postgres)
      dir="$root/bench-data/postgres-$n"
      mkdir -p "$dir"
      # shellcheck source=/dev/null
      source "$shared/peers/common.sh"
      # (After the `source`: a RETURN trap also fires when a sourced file finishes.)
      trap '"$shared/peers/pg.sh" stop "$PGPORT" "$dir/pgdata" >/dev/null 2>&1 || true' RETURN
      peers_cluster "$n" "$dir/results.csv"
      cp Benchmarks/postgres/job.yaml "$dir/job.yaml"
      reset() { (cd "$dir" && reset_dst damaged >/dev/null); rm -rf "$dir/.backfill"; }
      target_fingerprint() { (cd "$dir" && fingerprint dst public.events); }
      ;;
    *) echo "scripts/bench.sh journal sqlite|postgres [N]" >&2; return 2 ;;
  esac
  sed -e 's/^name: \(.*\)$/name: \1-unjournaled/' "$dir/job.yaml" > "$dir/job-off.yaml"
  echo "journal: off" >> "$dir/job-off.yaml"
  local off=() on=() t0 t1 before after
  for round in 1 2 3; do
    reset
    t0=$(now); (cd "$dir" && "$bin" run job-off.yaml --json > run-off.json); t1=$(now); off+=("$(seconds "$t0" "$t1")")
    reset
    before=$(target_fingerprint)
    t0=$(now); (cd "$dir" && "$bin" run job.yaml --json > run-on.json); t1=$(now); on+=("$(seconds "$t0" "$t1")")
  done
  (cd "$dir" && "$bin" journal 1 --limit 0 --json > journal.json)
  t0=$(now); (cd "$dir" && "$bin" undo 1 --json > undo.json); t1=$(now); local undo_s; undo_s=$(seconds "$t0" "$t1")
  after=$(target_fingerprint)
  local restored=PASS; [ "$before" = "$after" ] || restored="FAIL ($before vs $after)"
  python3 - "$engine" "$n" "${off[*]}" "${on[*]}" "$undo_s" "$dir/journal.json" "$dir/undo.json" "$restored" <<'PY'
import json, statistics, sys
engine, n = sys.argv[1], int(sys.argv[2])
off, on = [float(x) for x in sys.argv[3].split()], [float(x) for x in sys.argv[4].split()]
undo_s = float(sys.argv[5])
journal, undo = json.load(open(sys.argv[6])), json.load(open(sys.argv[7]))
entries = journal["inserted"] + journal["updated"] + journal["deleted"]
span = lambda xs: f"{min(xs):.2f}–{max(xs):.2f} s"
ratio = statistics.median(on) / statistics.median(off)
print(f"| engine | N | run, journal: off | run, journaled | median ratio | journal entries | journal bytes | undo | undo / run | restored |")
print("|---|---|---|---|---|---|---|---|---|---|")
print(f"| {engine} | {n:,} | {span(off)} | {span(on)} | **{ratio:.2f}×** | {entries:,} | {journal['bytes'] / 1048576:.1f} MB "
      f"| {undo_s:.2f} s ({undo['restored']:,} restored, {undo['deleted']:,} deleted, {undo['conflicts']} conflicts) "
      f"| {undo_s / statistics.median(on):.2f}× | {sys.argv[8]} |")
PY
}

# Cross-engine repair: the canonical row hash computed inside SQLite and PostgreSQL (the hash diff)
# against the row path, on the same 1% scattered damage, in one run.
bench_cross() {
  local n=${1:-1000000}
  local dir="$root/bench-data/cross-$n"
  local bin; bin=$(build_release)
  # shellcheck source=lib/postgres.sh
  source scripts/lib/postgres.sh
  pg_setup
  need psql postgresql-client
  [ -f "$dir/primary.db" ] || Benchmarks/sqlite/make-data.sh "$n" "$dir" >&2
  rm -rf "$dir/pg"
  export BENCH_PG_PORT; BENCH_PG_PORT=$(free_port)
  pg_start "$dir/pg" "$BENCH_PG_PORT" -c shared_buffers=512MB -c max_wal_size=4GB
  trap 'pg_stop "$dir/pg"; rm -rf "$dir/pg"' RETURN
  local pg=(psql -X -q -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -v ON_ERROR_STOP=1)
  "${pg[@]}" -d postgres -c "CREATE DATABASE crossbench"
  "${pg[@]}" -d crossbench -f Benchmarks/cross/schema.sql
  cp Benchmarks/cross/to-postgres.yaml Benchmarks/cross/from-postgres.yaml "$dir/"
  for job in to-postgres from-postgres; do
    sed -e "s/^name: bench-/name: bench-rows-/" -e '$a range: { where: "1 = 1" }' "$dir/$job.yaml" > "$dir/$job-rows.yaml"
  done
  rm -f "$dir/replica.db"
  sqlite3 "$dir/replica.db" "$(sqlite3 "$dir/primary.db" "SELECT sql FROM sqlite_master WHERE name = 'events'")"
  (
    cd "$dir"
    # timed JOB: runs `backfill run JOB --json` on a fresh state; prints "seconds shipped written".
    timed() {
      rm -rf .backfill
      local t0 t1; t0=$(now)
      "$bin" run "$1" --json > "run.json" 2> "run.log" || { tail -20 run.log >&2; return 1; }
      t1=$(now)
      python3 - "$(seconds "$t0" "$t1")" <<'PY'
import json, sys
c = json.load(open("run.json"))["counters"]
print(sys.argv[1], c.get("shippedRows", 0), c["inserted"] + c["updated"])
PY
    }
    echo "loading PostgreSQL from SQLite and SQLite from PostgreSQL ($n rows each)" >&2
    timed to-postgres.yaml >/dev/null
    timed from-postgres.yaml >/dev/null
    echo "| direction | (r) row path | (h) hash diff | r / h | rows shipped r / h | rows written r / h | (c) rerun | target = source |"
    echo "|---|---|---|---|---|---|---|---|"
    local direction damage r h c equal
    for direction in to-postgres from-postgres; do
      if [ "$direction" = to-postgres ]; then damage=("${pg[@]}" -d crossbench -f "$root/Benchmarks/cross/damage.sql")
      else damage=(sqlite3 replica.db ".read $root/Benchmarks/cross/damage.sql"); fi
      "${damage[@]}"; r=$(timed "$direction-rows.yaml")
      "${damage[@]}"; h=$(timed "$direction.yaml")
      c=$(timed "$direction.yaml")
      equal=$("$bin" verify "$direction.yaml" --json >/dev/null 2>&1 && echo yes || echo NO)
      python3 - "$direction" "$r" "$h" "$c" "$equal" <<'PY'
import sys
name = {"to-postgres": "SQLite → PostgreSQL", "from-postgres": "PostgreSQL → SQLite"}[sys.argv[1]]
r, h, c = (x.split() for x in sys.argv[2:5])
print(f"| {name} | {float(r[0]):.2f} s | {float(h[0]):.2f} s | {float(r[0]) / float(h[0]):.1f}× | {int(r[1]):,} / {int(h[1]):,} "
      f"| {int(r[2]):,} / {int(h[2]):,} | {float(c[0]):.2f} s, {int(c[1]):,} shipped | {sys.argv[5]} |")
PY
    done
  )
}

# Rows/s with 1, 2 and 4 `backfill worker` processes (one worker each) sharing a PostgreSQL state
# store, against the COPY limit measured in the same run; and the cost of leases: the same job
# with one process and a SQLite state store.
bench_workers() {
  local n=${1:-1000000}
  local shared=${BACKFILL_SHARED:-$root/../shared}
  local dir="$root/bench-data/postgres-$n"
  local bin; bin=$(build_release)
  mkdir -p "$dir"
  trap '"$shared/peers/pg.sh" stop "$PGPORT" "$dir/pgdata" >/dev/null 2>&1 || true' RETURN
  peers_cluster "$n" "$dir/results-workers.csv"
  local limit_s
  limit_s=$(python3 -c "import csv,sys; print([r for r in csv.DictReader(open('$RESULTS')) if r['scenario'] == 'a_copy_binary'][-1]['seconds'])")
  cp Benchmarks/postgres/workers.yaml "$dir/workers.yaml"
  sed -e '/^state:/d' -e 's/^name: bench-workers/name: bench-workers-sqlite/' Benchmarks/postgres/workers.yaml > "$dir/workers-sqlite.yaml"
  (
    cd "$dir"
    # shellcheck source=/dev/null
    source "$shared/peers/common.sh"
    echo "| processes × workers | state store | time | rows/s | vs (a) COPY limit | chunks (after splits) | splits | target = source |"
    echo "|---|---|---|---|---|---|---|---|"
    local p t0 t1 pids s chunks splits equal
    for p in sqlite 1 2 4; do
      reset_dst damaged >/dev/null
      rm -rf .backfill
      psql -X -q -d postgres -c "DROP DATABASE IF EXISTS backfill_state WITH (FORCE)" -c "CREATE DATABASE backfill_state"
      t0=$(now); pids=()
      if [ "$p" = sqlite ]; then
        "$bin" run workers-sqlite.yaml --log-level warning >"logs/workers-sqlite.out" 2>&1
      else
        for _ in $(seq 1 "$p"); do
          "$bin" worker --spec workers.yaml --workers 1 --log-level warning >>"logs/workers-$p.out" 2>&1 & pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid"; done
      fi
      t1=$(now); s=$(seconds "$t0" "$t1")
      if [ "$p" = sqlite ]; then chunks="-"; splits="-"; else
        chunks=$(psql -X -At -d backfill_state -c "SELECT count(*) FROM backfill.chunks")
        splits=$(psql -X -At -d backfill_state -c "SELECT count(*) FROM backfill.events WHERE kind = 'split'")
      fi
      local fingerprint="SELECT md5(string_agg(e::text, '' ORDER BY id)) FROM events e"
      if [ "$(psql -X -At -d src -c "$fingerprint")" = "$(psql -X -At -d dst -c "$fingerprint")" ]; then equal=yes; else equal=NO; fi
      python3 -c "
n, s, a = $n, float('$s'), float('$limit_s')
label = '1 × 1' if '$p' == 'sqlite' else '$p × 1'
store = 'SQLite file' if '$p' == 'sqlite' else 'PostgreSQL (leases)'
print(f'| {label} | {store} | {s:.2f} s | {n / s:,.0f} | {a / s:.0%} | $chunks | $splits | $equal |')"
    done
    echo "(a) COPY limit: ${limit_s} s"
  )
}

# Events/s delivered to the local receiver (Benchmarks/receiver) — an event log of N events over
# 1,000 order keys (default 100,000: 100 events a key):
#   none    no faults, at concurrency 1, 8 and 64 — the baseline of the ratios below;
#   outage  the faults #19 measured: 15% 500s, 5% 429 with Retry-After: 1, and the receiver down for
#           3 s from its 2,000th request — N events at concurrency 64;
#   mixed   20% 500s, a 429 with Retry-After: 1 in 37 requests, an answer slower than the 1 s
#           timeout in 53 — N/10 events at concurrency 8 and 64;
# then 1,000,000 events without faults at concurrency 64, for the peak RSS. Every event is signed;
# the receiver counts each one it processed, redeliveries and bad signatures, and checks per-key
# order (Benchmarks/events/row.py prints each row).
bench_events() {
  local n=${1:-100000}
  local dir="$root/bench-data/events"
  swift build -c release --scratch-path .build-release --product backfill >&2
  swift build -c release --scratch-path .build-release --product backfill-receiver >&2
  local bin="$root/.build-release/release/backfill" receiver="$root/.build-release/release/backfill-receiver"
  mkdir -p "$dir"
  local total=$((n > 1000000 ? n : 1000000))
  if [ "$(sqlite3 "$dir/events.db" 'SELECT count(*) FROM events' 2>/dev/null)" != "$total" ]; then
    rm -f "$dir/events.db"
    sqlite3 "$dir/events.db" "CREATE TABLE events (id INTEGER PRIMARY KEY, account TEXT NOT NULL, seq INTEGER NOT NULL,
        occurred_at TEXT NOT NULL, payload TEXT);
      WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $total)
      INSERT INTO events SELECT i, 'acct-' || (i % 1000), (i - 1) / 1000, printf('2026-11-01T%012d', i),
        '{\"amount\": ' || (i * 7 % 1000) || ', \"sku\": \"SKU-' || (i % 5000) || '\"}' FROM c;
      CREATE INDEX events_by_time ON events (occurred_at, id);"
  fi
  echo "| faults | concurrency | events | time | events/s | vs no faults | peak RSS | processed once | redeliveries | requests | per-key order | bad signatures |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  : >"$dir/rates"
  local run faults c events rpid
  for run in "none 1 $n" "none 8 $n" "none 64 $n" "outage 64 $n" "mixed 8 $((n / 10))" "mixed 64 $((n / 10))" "none 64 1000000"; do
    read -r faults c events <<<"$run"
    rm -rf "$dir/.backfill" "$dir/port" "$dir/port.tally"
    "$receiver" "$dir/port" --secret bench-secret --faults "$faults" --order-field account --sequence-field seq &
    rpid=$!
    for _ in $(seq 1 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
    printf '%s\n' "name: bench-events" "source: { sqlite: events.db, table: events }" \
      "target: { webhook: \"http://127.0.0.1:$(cat "$dir/port")/events\", secret: \"\${WEBHOOK_SECRET}\", timeout: 1s, concurrency: $c }" \
      "events: { id: id, order-key: account, order-by: occurred_at }" "range: { where: \"id <= $events\" }" \
      "batch: { size: 1000, max: 1000 }" "limits: { backoff: 20ms, retries: 12 }" >"$dir/job.yaml"
    (cd "$dir" && WEBHOOK_SECRET=bench-secret /usr/bin/time -f "%e %M" -o "$dir/time" "$bin" run job.yaml --json \
      >"$dir/run-$faults-$c.json" 2>"$dir/run-$faults-$c.log") || echo "run failed: $dir/run-$faults-$c.log" >&2
    kill -TERM "$rpid"
    wait "$rpid" || true
    python3 "$root/Benchmarks/events/row.py" "$dir/port.tally" "$faults" "$c" "$events" "$dir/time" "$dir/rates"
  done
}

# A warehouse export (8 gzipped CSV parts with a header each, as BigQuery writes them) into a new
# PostgreSQL table: `backfill run` with `create: true` against the plain way, `zcat` into `psql \copy`
# (headers dropped) into an empty table of the same shape, in one cluster of ../shared/peers/pg.sh.
bench_parts() {
  local n=${1:-1000000}
  local shared=${BACKFILL_SHARED:-$root/../shared}
  local dir="$root/bench-data/parts-$n"
  local bin; bin=$(build_release)
  need psql postgresql-client
  mkdir -p "$dir/export"
  export PGHOST=127.0.0.1 PGUSER=postgres PGPORT=${BENCH_PG_PORT:-55462}
  trap '"$shared/peers/pg.sh" stop "$PGPORT" "$dir/pgdata" >/dev/null 2>&1 || true' RETURN
  "$shared/peers/pg.sh" start "$PGPORT" "$dir/pgdata" >&2
  if [ "$(find "$dir/export" -name '*.csv.gz' | wc -l)" != 8 ]; then
    Benchmarks/parts/make-export.py "$n" "$dir/export"
    gzip -f "$dir"/export/*.csv
  fi
  # The spec a user gets from `init --from` (create: true, 2 workers, a batch size from the rows' width).
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS parts_backfill" -c "CREATE DATABASE parts_backfill" >/dev/null
  (cd "$dir" && "$bin" init --force --from export/ --to "postgres://postgres@127.0.0.1:$PGPORT/parts_backfill" --table orders job.yaml >&2)
  { cat "$dir/job.yaml"; echo "journal: off"; } > "$dir/nojournal.yaml"
  local ddl='CREATE TABLE orders (id bigint NOT NULL PRIMARY KEY, customer text, amount numeric, placed_at timestamptz, note text)'
  local copy="for f in $dir/export/*.csv.gz; do zcat \$f | tail -n +2; done | psql -X -q -d parts_copy -c '\\copy orders FROM STDIN (FORMAT csv)'"
  : > "$dir/times"
  local table_md5="SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM orders t" backfill_md5=""
  for round in 1 2; do
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS parts_copy" -c "DROP DATABASE IF EXISTS parts_backfill" \
      -c "CREATE DATABASE parts_copy" -c "CREATE DATABASE parts_backfill" >/dev/null
    psql -X -q -d parts_copy -c "$ddl"
    rm -rf "$dir/.backfill"
    /usr/bin/time -f "copy %e %M" -a -o "$dir/times" bash -c "$copy"
    (cd "$dir" && /usr/bin/time -f "backfill %e %M" -a -o "$dir/times" "$bin" run job.yaml --json >"$dir/run-$round.json" 2>"$dir/run-$round.log")
    backfill_md5=$(psql -X -At -d parts_backfill -c "$table_md5")
    # The same without the journal (no undo): what writing the undo's row images costs a first load.
    psql -X -q -d postgres -c "DROP DATABASE parts_backfill" -c "CREATE DATABASE parts_backfill" >/dev/null
    rm -rf "$dir/.backfill"
    (cd "$dir" && /usr/bin/time -f "unjournaled %e %M" -a -o "$dir/times" "$bin" run nojournal.yaml --json >/dev/null 2>&1)
  done
  local shape="SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'orders'"
  Benchmarks/parts/summary.py "$n" "$dir/times" "$(psql -X -At -d parts_copy -c "$table_md5")" \
    "$backfill_md5" "$(psql -X -At -d parts_backfill -c "$shape")" "$(du -sb "$dir/export" | cut -f1)"
}

# Live traffic (#20): pgbench (4 clients, simple-update on 1M accounts) works on the target database
# while backfill repairs the peers' damage there. pgbench alone, then beside backfill pinned to full
# speed, with its defaults (gentle while others work) and with a WAL budget; pgbench's TPS and p99
# while each backfill ran, from its per-transaction logs. Then backfill with no one else there, with
# the defaults and pinned to full speed: the defaults must cost nothing when alone.
#   scripts/bench.sh live [N]        (LIVE_SECONDS: pgbench's duration per round, default 90)
bench_live() {
  local n=${1:-1000000} secs=${LIVE_SECONDS:-90}
  local shared=${BACKFILL_SHARED:-$root/../shared}
  local dir="$root/bench-data/postgres-$n"
  local bin; bin=$(build_release)
  need pgbench postgresql-contrib
  need psql postgresql-client
  mkdir -p "$dir/live"
  rm -rf "$dir/live"; mkdir -p "$dir/live"
  export BENCH_PG_PORT=${BENCH_PG_PORT:-55461} PGHOST=127.0.0.1 PGUSER=postgres
  export PGPORT=$BENCH_PG_PORT RESULTS="$dir/live/results.csv" LOGDIR="$dir/live/logs"
  # shellcheck source=/dev/null
  source "$shared/peers/common.sh"
  # (After the `source`: a RETURN trap also fires when a sourced file finishes.)
  trap '"$shared/peers/pg.sh" stop "$PGPORT" "$dir/pgdata" >/dev/null 2>&1 || true' RETURN
  "$shared/peers/pg.sh" start "$PGPORT" "$dir/pgdata" >&2
  if [ "$(psql -X -At -d src -c 'select count(*) from events' 2>/dev/null || echo 0)" != "$n" ]; then
    "$shared/peers/gen.sh" "$n" >&2
  fi
  local lsn_bytes="SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"
  fresh_target() {
    reset_dst damaged >/dev/null
    pgbench -i -q -s 10 dst >/dev/null 2>&1
    psql -X -q -d dst -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
    rm -rf "$dir/live/.backfill"
  }
  # live_round NAME [SPEC-LINES]: pgbench for $secs s; from its 5th second, backfill with the spec
  # lines (none: pgbench alone, measured from the 5th second to 5 s before its end).
  live_round() {
    local name=$1 lines=${2:-}
    fresh_target
    pgbench -c 4 -j 2 -T "$secs" -b simple-update -l --log-prefix="$dir/live/$name.log" dst >"$dir/live/$name.pgbench" 2>&1 &
    local pgbench_pid=$! pgbench_end
    pgbench_end=$(python3 -c "print($(now) + $secs)")
    sleep 5
    local t0 t1 w0 w1 result="-" took="-"
    t0=$(now); w0=$(psql -X -At -d postgres -c "$lsn_bytes")
    if [ -n "$lines" ]; then
      { cat Benchmarks/live/job.yaml; printf '%s\n' "$lines"; } > "$dir/live/$name.yaml"
      (cd "$dir/live" && "$bin" run "$name.yaml" --json >"$name.json" 2>"$name.err") || true
      t1=$(now)
      took="$(seconds "$t0" "$t1") s"
    else
      sleep $((secs - 10)); t1=$(now)
    fi
    w1=$(psql -X -At -d postgres -c "$lsn_bytes")
    wait "$pgbench_pid" || true
    # The window ends with pgbench when the backfill outlasted it.
    if python3 -c "import sys; sys.exit(0 if $t1 > $pgbench_end else 1)"; then t1=$pgbench_end; took="$took (outlasted pgbench)"; fi
    [ -n "$lines" ] && result=$(check_equal 2>/dev/null)
    echo "$t0 $t1 ${took// /_} $result $(python3 -c "print(f'{($w1 - $w0) / 1048576:.0f}')")" > "$dir/live/$name.window"
    echo "live round $name: $(cat "$dir/live/$name.window")" >&2
  }
  live_round alone
  # The WAL budget: the WAL pgbench writes alone, and half as much again for the backfill.
  local wal_budget
  wal_budget=$(python3 -c "
t0, t1, _, _, mb = open('$dir/live/alone.window').read().split()
print(int(float(mb) * 1048576 / (float(t1) - float(t0)) * 1.5))")
  live_round unthrottled "health: { live-traffic: full-speed }"
  live_round defaults "# health: the defaults"
  live_round wal-budget "health: { live-traffic: full-speed }
limits: { wal-bytes-per-second: $wal_budget }"
  # With nobody else on the target: the defaults against full speed, twice each, alternating (the
  # second round in the other order).
  local times=()
  for round in 1 2; do
    local modes="auto full-speed"
    [ "$round" = 2 ] && modes="full-speed auto"
    for mode in $modes; do
      fresh_target
      { cat Benchmarks/live/job.yaml; echo "health: { live-traffic: $mode }"; } > "$dir/live/quiet-$mode.yaml"
      local t0; t0=$(now)
      (cd "$dir/live" && "$bin" run "quiet-$mode.yaml" --json >"quiet-$mode-$round.json" 2>&1)
      times+=("$mode=$(seconds "$t0" "$(now)")")
    done
  done
  Benchmarks/live/summary.py "$dir/live" alone unthrottled defaults wal-budget
  echo
  echo "WAL budget: $((wal_budget / 1024)) KB/s (pgbench alone wrote $(cut -d' ' -f5 "$dir/live/alone.window") MB in its window, × 1.5)"
  echo "with no one else on the target (seconds): ${times[*]}"
}

# MySQL (#21): a throwaway MariaDB in bench-data/mysql-N; the events table of the peers in `src`, its
# damaged copy in `dst` (regenerated before each repair), an empty one in `lim` for the limit.
# Percona Toolkit (Debian's percona-toolkit) is installed when missing.
bench_mysql() {
  local n=${1:-1000000}
  local dir="$root/bench-data/mysql-$n"
  local bin; bin=$(build_release)
  source "$root/scripts/lib/postgres.sh"
  source "$root/scripts/lib/mariadb.sh"
  maria_setup
  need pt-table-sync percona-toolkit
  local port=${BENCH_MYSQL_PORT:-55463}
  mkdir -p "$dir"
  trap 'maria_stop "$dir/server"' RETURN
  maria_start "$dir/server" "$port"
  local sql="mariadb --no-defaults -h 127.0.0.1 -P $port -u root -N -B"
  local pt="h=127.0.0.1,P=$port,u=root"
  $sql -e "SET GLOBAL max_recursive_iterations = 100000000"
  sed "s/@N@/$n/g" Benchmarks/mysql/gen.sql | $sql
  local dsn="mysql://root@127.0.0.1:$port"
  printf 'name: events\nsource: { mysql: "%s/src", table: events }\ntarget: { mysql: "%s/dst", table: events }\nkey: [id]\nbatch: { size: 5000, max: 20000 }\nworkers: 2\n' \
    "$dsn" "$dsn" > "$dir/job.yaml"
  : > "$dir/times"
  : > "$dir/left"
  damage() { sed "s/@N@/$n/g" Benchmarks/mysql/damage.sql | $sql; rm -rf "$dir/.backfill"; }
  timed() { local name=$1; shift; /usr/bin/time -f "$name %e %M" -a -o "$dir/times" "$@"; }
  left() { echo "$1 $($sql < Benchmarks/mysql/left.sql)" >> "$dir/left"; }
  for round in 1 2; do
    $sql -e "DROP DATABASE IF EXISTS lim; CREATE DATABASE lim; CREATE TABLE lim.events LIKE src.events"
    timed limit bash -c "mysqldump --no-defaults -h 127.0.0.1 -P $port -u root --no-create-info --skip-triggers src events | $sql lim"
    damage
    (cd "$dir" && timed verify "$bin" verify job.yaml --json >"$dir/verify-$round.json" 2>/dev/null || true)
    timed pt-table-checksum pt-table-checksum "$pt" --databases src,dst --tables events --no-check-binlog-format \
      --no-check-replication-filters --recursion-method=none >"$dir/pt-table-checksum-$round.out" 2>&1 || true
    (cd "$dir" && timed run "$bin" run job.yaml --json >"$dir/run-$round.json" 2>"$dir/run-$round.log")
    left run
    (cd "$dir" && timed rerun "$bin" run job.yaml --json >"$dir/rerun-$round.json" 2>/dev/null)
    damage
    (cd "$dir" && timed verify-repair "$bin" verify job.yaml --repair --json >"$dir/verify-repair-$round.json" 2>/dev/null || true)
    left verify-repair
    damage
    # Exit 2 from pt-table-sync: differences were found (and synced).
    timed pt-table-sync pt-table-sync --execute "$pt,D=src,t=events" "$pt,D=dst,t=events" >"$dir/pt-table-sync-$round.out" 2>&1 || true
    left pt-table-sync
  done
  local checksums; checksums=$($sql -e "CHECKSUM TABLE src.events, lim.events" | cut -f2 | tr '\n' ' ')
  Benchmarks/mysql/summary.py "$n" "$dir/times" "$dir/left" "$checksums" "$dir/run-2.json" "$dir/verify-2.json" \
    "$($sql -e "SELECT COUNT(*) FROM bench.damage")"
}

case "${1:-}" in
  sqlite) shift; bench_sqlite "$@" ;;
  sqlite-batches) shift; bench_sqlite_batches "$(build_release)" ;;
  controls) shift; bench_controls "$@" ;;
  cross) shift; bench_cross "$@" ;;
  verify) shift; bench_verify "$@" ;;
  verify-postgres) shift; bench_verify_postgres "$@" ;;
  postgres) shift; bench_postgres "$@" ;;
  workers) shift; bench_workers "$@" ;;
  events) shift; bench_events "$@" ;;
  journal) shift; bench_journal "$@" ;;
  parts) shift; bench_parts "$@" ;;
  live) shift; bench_live "$@" ;;
  mysql) shift; bench_mysql "$@" ;;
  *) echo "usage: scripts/bench.sh sqlite [N] | sqlite-batches | controls | verify [N] | verify-postgres [N] | postgres [N] | workers [N] | events [N] | journal sqlite|postgres [N] | parts [N] | live [N] | mysql [N]" >&2; exit 2 ;;
esac
