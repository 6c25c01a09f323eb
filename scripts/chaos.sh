#!/usr/bin/env bash
# The fault suite for runs shared by many worker processes through a PostgreSQL state store.
# Every case starts real `backfill worker` processes against real clusters, injects a fault, and
# reports rows expected, rows found, whether target = source, rows written more than once
# (a write-log trigger records every row the backfill writes), live updates lost, checkpoints
# refused by the fence, and the time the run took.
#
#   scripts/chaos.sh            1,000,000 rows per case, release build
#   scripts/chaos.sh --short    60,000 rows per case with the debug build (what scripts/test.sh runs in CI)
#   KEEP=1 scripts/chaos.sh     keep the clusters' folder and the workers' logs
#   scripts/chaos.sh --short stalled-worker live-writer   only the cases named
#
# Cases: kill-workers (3 workers, one kill -9-ed and restarted every few seconds) · stalled-worker
# (SIGSTOP inside a transaction, past its lease, then SIGCONT: the other goes on, the late checkpoint is refused) · state-restart
# (the state store's server restarted mid-run) · target-restart (the data server restarted
# mid-run) · live-writer (newer-wins while the application keeps updating rows) · webhook-failing
# (event replay to a receiver answering 500, 429 and too slowly, and down for 3 s).
# Exit status 1 when any case fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/lib/postgres.sh

mode=full rows=1000000
if [ "${1:-}" = --short ]; then mode=short rows=60000; shift; fi
only=("$@") # case names to run (all when none)
pg_setup
export PATH="$pg_bin:$PATH" PGOPTIONS="-c client_min_messages=warning"
if [ $mode = short ]; then
  [ -x .build/debug/backfill ] || swift build --product backfill >&2
  [ -x .build/debug/backfill-receiver ] || swift build --product backfill-receiver >&2
  bin=$root/.build/debug/backfill receiver_bin=$root/.build/debug/backfill-receiver
else
  swift build -c release --scratch-path .build-release --product backfill >&2
  swift build -c release --scratch-path .build-release --product backfill-receiver >&2
  bin=$root/.build-release/release/backfill receiver_bin=$root/.build-release/release/backfill-receiver
fi

work=$(mktemp -d /tmp/backfill-chaos.XXXXXX)
chmod 755 "$work"
data_port=$(free_port) state_port=$(free_port)
workers=()
cleanup() {
  for pid in "${workers[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  pg_stop "$work/data"; pg_stop "$work/state"
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
pg_start "$work/data" "$data_port"
pg_start "$work/state" "$state_port"

data_sql() { local db=$1; shift; psql -h 127.0.0.1 -p "$data_port" -U postgres -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
state_sql() { local db=$1; shift; psql -h 127.0.0.1 -p "$state_port" -U postgres -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
now() { date +%s.%N; }

# Source `src` with $rows rows; target `dst` a damaged copy (a 10% gap, 0.5% deleted, 1% stale)
# with a log of every row the backfill writes.
make_data() {
  data_sql postgres -c "DROP DATABASE IF EXISTS dst WITH (FORCE)" -c "DROP DATABASE IF EXISTS src WITH (FORCE)" -c "CREATE DATABASE src"
  data_sql src -c "CREATE TABLE events(id bigint PRIMARY KEY, account_id bigint NOT NULL, kind text NOT NULL,
      amount numeric(12,2), updated_at timestamptz NOT NULL)" \
    -c "INSERT INTO events SELECT g, g % 5000, (ARRAY['purchase','refund','signup'])[1 + g % 3],
      CASE WHEN g % 101 = 0 THEN NULL ELSE (g * 37 % 100000) / 100.0 END, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
      FROM generate_series(1, $rows) g" -c "VACUUM ANALYZE events"
  data_sql postgres -c "CREATE DATABASE dst TEMPLATE src"
  data_sql dst -c "DELETE FROM events WHERE id BETWEEN $((rows * 45 / 100)) AND $((rows * 55 / 100)) OR abs(hashint8(id)) % 200 = 0" \
    -c "UPDATE events SET amount = coalesce(amount, 0) + 1, updated_at = updated_at - interval '30 days' WHERE abs(hashint8(id + 7)) % 100 = 0" \
    -c "CREATE TABLE writes(id bigint NOT NULL)" \
    -c "CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
          IF current_setting('application_name') = 'backfill' THEN INSERT INTO writes VALUES (NEW.id); END IF; RETURN NEW; END \$\$" \
    -c "CREATE TRIGGER log_write AFTER INSERT OR UPDATE ON events FOR EACH ROW EXECUTE FUNCTION log_write()" \
    -c "VACUUM ANALYZE events"
}

# spec NAME STATE_DSN EXTRA: the job file of a case.
spec() {
  cat > "$work/$1.yaml" <<YAML
name: $1
source: { postgres: "postgres://postgres@127.0.0.1:$data_port/src", table: events }
target: { postgres: "postgres://postgres@127.0.0.1:$data_port/dst", table: events }
key: [id]
batch: { size: 1000 }
workers: 2
limits: { backoff: 200ms$3 }
state: "$2"
YAML
}

# start_worker CASE LEASE [more options]: a worker in the background; its pid in $started.
start_worker() {
  local name=$1 lease=$2; shift 2
  "$bin" worker --spec "$work/$name.yaml" --lease "$lease" --log-level warning "$@" >>"$work/$name.out" 2>>"$work/$name.log" &
  started=$!
  workers+=("$started")
}

# state_of DSN-DB-FUNCTION: the newest run's status via the given psql function and database.
run_status() { "$1" "$2" -c "SELECT status FROM backfill.runs ORDER BY id DESC LIMIT 1" 2>/dev/null || echo "unreachable"; }
run_read() { "$1" "$2" -c "SELECT coalesce(sum(read), 0) FROM backfill.chunks" 2>/dev/null || echo 0; }

wait_for_workers() {
  local pid
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

fingerprint() { # DB [WHERE]: count and a checksum of every row
  data_sql "$1" -c "SELECT count(*) || ':' || coalesce(sum(('x' || substr(md5(e::text), 1, 15))::bit(60)::bigint::numeric), 0) FROM events e ${2:-}"
}

failures=0
printf '\n%-15s %10s %10s %6s %11s %13s %9s %8s  %s\n' case expected found equal duplicates lost-updates refused seconds result
# report CASE STARTED [WHERE-for-equality] [lost-updates] [refused] [must-refuse]
report() {
  local name=$1 t0=$2 where=${3:-} lost=${4:-0} refused=${5:-0} must_refuse=${6:-no}
  local t1 expected found equal dups ok=PASS
  t1=$(now)
  expected=$(data_sql src -c "SELECT count(*) FROM events")
  found=$(data_sql dst -c "SELECT count(*) FROM events")
  if [ "$(fingerprint src "$where")" = "$(fingerprint dst "$where")" ]; then equal=yes; else equal=NO; ok=FAIL; fi
  dups=$(data_sql dst -c "SELECT count(*) - count(DISTINCT id) FROM writes")
  [ "$expected" = "$found" ] || ok=FAIL
  [ "$dups" = 0 ] || ok=FAIL
  [ "$lost" = 0 ] || ok=FAIL
  if [ "$must_refuse" = yes ] && [ "$refused" = 0 ]; then ok=FAIL; fi
  printf '%-15s %10s %10s %6s %11s %13s %9s %8.1f  %s\n' "$name" "$expected" "$found" "$equal" "$dups" "$lost" "$refused" \
    "$(python3 -c "print($t1 - $t0)")" "$ok"
  if [ $ok = FAIL ]; then failures=$((failures + 1)); show_log "$name"; fi
}

# show_log CASE: where a failed case's logs are, and their last lines (CI keeps only the output).
show_log() {
  echo "  logs: $work/$1.log" >&2
  tail -n 40 "$work/$1.log" "$work/$1.out" 2>/dev/null | sed 's/^/    /' >&2 || true
}

wait_until_done() { # FUNCTION DB TIMEOUT
  local deadline=$(( $(date +%s) + $3 ))
  while [ "$(run_status "$1" "$2")" != completed ]; do
    [ "$(date +%s)" -lt $deadline ] || { echo "  timed out waiting for the run" >&2; return 1; }
    sleep 0.5
  done
}

timeout=$([ $mode = short ] && echo 240 || echo 1200)
rate=$([ $mode = short ] && echo ", rows-per-second: 2500" || echo "")

# 1. Three workers; every few seconds one is killed with SIGKILL and started again.
case_kill_workers() {
  local name=kill-workers
  make_data
  local db=${name//-/_}
  state_sql postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  spec $name "postgres://postgres@127.0.0.1:$state_port/$db" "$rate"
  local t0 pids=() i victim kills=0
  t0=$(now)
  for i in 0 1 2; do start_worker $name 2s; pids[i]=$started; done
  local deadline=$(( $(date +%s) + timeout ))
  while [ "$(run_status state_sql $db)" != completed ] && [ "$(date +%s)" -lt $deadline ]; do
    sleep $([ $mode = short ] && echo 2 || echo 1.5)
    [ "$(run_status state_sql $db)" = completed ] && break
    victim=$((RANDOM % 3))
    kill -9 "${pids[victim]}" 2>/dev/null || true
    wait "${pids[victim]}" 2>/dev/null || true
    start_worker $name 2s; pids[victim]=$started
    kills=$((kills + 1))
  done
  wait_for_workers "${pids[@]}"
  echo "  $kills workers killed with SIGKILL and restarted" >&2
  report $name "$t0"
}

# 2. A worker stopped (SIGSTOP) past its lease while holding a chunk, then continued: the chunk
#    was taken over, so its next checkpoint — committed with its rows, the state being in the
#    target database — is refused and rolled back. The stop comes inside a transaction, as a stall
#    can: holding the lock on the run's row, which every worker's checkpoint updates, so the other
#    worker can go on only once the server has ended the stopped worker's session (its connections'
#    idle-in-transaction timeout is the lease).
case_stalled_worker() {
  local name=stalled-worker
  make_data
  # A lock wait outlasts the steps below (the default 2 s could end the stopped worker's wait
  # before the row is let go, and leave its transaction holding nothing).
  spec $name "postgres://postgres@127.0.0.1:$data_port/dst" ", rows-per-second: $([ $mode = short ] && echo 2000 || echo 20000), lock-timeout: 30s"
  local t0 a b
  t0=$(now)
  start_worker $name 2s --workers 1; a=$started
  start_worker $name 2s --workers 1; b=$started
  # A lease's owner is `host:pid` with the host as the process sees it (which may be the canonical
  # name, not what `hostname` prints): a worker's leases are found by their pid.
  local mine="split_part(lease_owner, ':', -1) = '$a'"
  local held="" tries=0 waiting=0
  while [ -z "$held" ] && [ $tries -lt 400 ] && kill -0 "$a" 2>/dev/null; do
    held=$(data_sql dst -c "SELECT id FROM backfill.chunks WHERE status = 'running' AND $mine LIMIT 1" 2>/dev/null || true)
    tries=$((tries + 1)); [ -n "$held" ] || sleep 0.05
  done
  if [ -n "$held" ]; then
    # Hold the run's row until the worker waits for it inside a transaction (its sessions are
    # found by their client ports), stop the worker, then let the row go: the worker's statement
    # completes, and its transaction stays open, idle, holding the row.
    mkfifo "$work/lock.fifo"
    data_sql dst <"$work/lock.fifo" >/dev/null & local locker=$!
    exec 9>"$work/lock.fifo"
    echo "BEGIN; SELECT 1 FROM backfill.runs FOR UPDATE;" >&9
    local ports
    tries=0
    while [ "$waiting" = 0 ] && [ $tries -lt 600 ] && kill -0 "$a" 2>/dev/null; do
      ports=$(ss -tnpH "( dport = :$data_port )" | grep "pid=$a," | awk '{print $4}' | sed 's/.*://' | paste -sd, - || true)
      [ -n "$ports" ] && waiting=$(data_sql dst -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND client_port IN ($ports)")
      tries=$((tries + 1)); [ "$waiting" != 0 ] || sleep 0.05
    done
    kill -STOP "$a" 2>/dev/null || waiting=0  # it may have ended meanwhile
    echo "COMMIT;" >&9
    exec 9>&-
    wait "$locker" || true
    rm -f "$work/lock.fifo"
    # Its chunk now (it may have finished the one seen first, or still be between chunks).
    held=$(data_sql dst -c "SELECT id FROM backfill.chunks WHERE status = 'running' AND $mine LIMIT 1")
    [ -n "$held" ] || kill -CONT "$a"
  fi
  local taken=no
  if [ -n "$held" ]; then
    # The event this case tests: the other worker takes the chunk over once the lease expired —
    # which it does when it looks for work, possibly only after its own pending chunks. Wait for
    # that (or for it to end), not for a time.
    local generation=""
    while kill -0 "$b" 2>/dev/null; do
      if [ "$(data_sql dst -c "SELECT lease_owner IS NULL OR NOT ($mine) FROM backfill.chunks WHERE id = $held")" = t ]; then
        taken=yes
        generation=$(data_sql dst -c "SELECT generation FROM backfill.chunks WHERE id = $held")
        break
      fi
      sleep 0.1
    done
    # Then its first checkpoint there (or the chunk done, or the worker gone): the stopped worker's
    # checkpoint is stale from then on.
    while [ "$taken" = yes ] && kill -0 "$b" 2>/dev/null \
      && [ "$(data_sql dst -c "SELECT status <> 'done' AND generation <= $generation FROM backfill.chunks WHERE id = $held")" = t ]; do
      sleep 0.1
    done
    kill -CONT "$a"
  fi
  wait_for_workers "$a" "$b"
  local refused
  refused=$(data_sql dst -c "SELECT count(*) FROM backfill.events WHERE kind = 'lease-lost'")
  if [ "$waiting" = 0 ]; then echo "  worker $a was never seen waiting for the run's row inside a transaction" >&2; refused=0
  elif [ "$taken" = yes ]; then echo "  chunk $held taken over while its worker was stopped inside a transaction" >&2
  elif [ -n "$held" ]; then echo "  the stopped worker's chunk $held was not taken over" >&2; refused=0
  else
    echo "  worker $a was never seen holding a chunk; leases: $(data_sql dst -c "SELECT string_agg(DISTINCT lease_owner, ' ') FROM backfill.chunks")" >&2
    refused=0
  fi
  report $name "$t0" "" 0 "$refused" yes
}

# 3. / 4. The state store's server, or the data server (source and target), restarted mid-run.
case_restart() {
  local name=$1 which=$2
  make_data
  local db=${name//-/_}
  state_sql postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  spec $name "postgres://postgres@127.0.0.1:$state_port/$db" "$rate"
  local t0 a b
  t0=$(now)
  start_worker $name 6s; a=$started
  start_worker $name 6s; b=$started
  for _ in $(seq 1 2400); do
    [ "$(run_read state_sql $db)" -ge $((rows / 3)) ] && break
    sleep 0.05
  done
  if [ "$which" = state ]; then pg_restart "$work/state" "$state_port"; else pg_restart "$work/data" "$data_port"; fi
  wait_for_workers "$a" "$b"
  report $name "$t0"
}

# 5. newer-wins while the application keeps updating target rows with newer versions: none of
#    its updates may be overwritten.
case_live_writer() {
  local name=live-writer
  make_data
  data_sql dst -c "CREATE TABLE live_log(id bigint NOT NULL)"
  data_sql src -c "CREATE TABLE live_log(id bigint NOT NULL)"
  local db=${name//-/_}
  state_sql postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  spec $name "postgres://postgres@127.0.0.1:$state_port/$db" "$rate"
  sed -i 's/^key: \[id\]$/key: [id]\nconflict: { newer-wins: updated_at }/' "$work/$name.yaml"
  local t0 a b
  t0=$(now)
  start_worker $name 5s; a=$started
  start_worker $name 5s; b=$started
  while kill -0 "$a" 2>/dev/null || kill -0 "$b" 2>/dev/null; do
    data_sql dst -c "WITH u AS (UPDATE events SET kind = 'live', updated_at = now() + interval '1 year'
        WHERE id IN (SELECT 1 + (random() * ($rows - 1))::bigint FROM generate_series(1, 20)) RETURNING id)
      INSERT INTO live_log SELECT id FROM u" 2>/dev/null || true
    sleep 0.05
  done
  wait_for_workers "$a" "$b"
  local lost
  lost=$(data_sql dst -c "SELECT count(*) FROM live_log l JOIN events e USING (id) WHERE e.kind <> 'live'")
  # The rows the application changed are compared nowhere else: leave them out of the equality check.
  data_sql dst -c "COPY live_log TO STDOUT" | data_sql src -c "COPY live_log FROM STDIN"
  echo "  $(data_sql dst -c "SELECT count(DISTINCT id) FROM live_log") rows updated by the application during the run" >&2
  report $name "$t0" "WHERE id NOT IN (SELECT id FROM live_log)" "$lost"
}

# 6. Event replay to a webhook receiver that fails: 20% 500s, 429s with Retry-After, answers
#    slower than the timeout, and down (connections closed unanswered) for 3 s mid-run. Every event must be
#    processed once, each account's events in order, each signature valid.
case_webhook_failing() {
  local name=webhook-failing events=$([ $mode = short ] && echo 3000 || echo 20000)
  make_data
  rm -f "$work/port" "$work/port.tally"
  "$receiver_bin" "$work/port" --secret chaos-secret --faults mixed --order-field account_id --sequence-field id & local rpid=$!
  for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
  cat > "$work/$name.yaml" <<YAML
name: $name
source: { postgres: "postgres://postgres@127.0.0.1:$data_port/src", table: events }
target: { webhook: "http://127.0.0.1:$(cat "$work/port")/events", secret: "\${WEBHOOK_SECRET}", timeout: 1s, concurrency: 32 }
events: { id: id, order-key: account_id, order-by: updated_at }
range: { where: "id <= $events" }
batch: { size: 500, min: 10 }
limits: { backoff: 50ms, retries: 12 }
state: "$work/$name.db"
YAML
  local t0 run t1 ok=PASS
  t0=$(now)
  WEBHOOK_SECRET=chaos-secret "$bin" run "$work/$name.yaml" --log-level warning >>"$work/$name.out" 2>>"$work/$name.log" & run=$!
  workers+=("$run")
  sleep 2; kill -USR1 "$rpid"; sleep 3; kill -USR2 "$rpid"
  wait "$run" || ok=FAIL
  t1=$(now)
  kill -TERM "$rpid"; wait "$rpid" || true
  local summary
  summary=$(python3 -c "
import json; t = json.load(open('$work/port.tally')); n = $events
print(n, t['unique'], 'yes' if t['unique'] == n and t['in_order'] and t['bad_signatures'] == 0 else 'NO', t['processed'] - t['unique'], n - t['unique'], t['redeliveries'])")
  read -r expected found equal dups lost redelivered <<<"$summary"
  { [ "$equal" = yes ] && [ "$dups" = 0 ] && [ "$lost" = 0 ]; } || ok=FAIL
  echo "  $redelivered acknowledged events delivered again after timeouts (deduplicated by Idempotency-Key)" >&2
  printf '%-15s %10s %10s %6s %11s %13s %9s %8.1f  %s\n' "$name" "$expected" "$found" "$equal" "$dups" "$lost" 0 \
    "$(python3 -c "print($t1 - $t0)")" "$ok"
  if [ $ok = FAIL ]; then failures=$((failures + 1)); show_log "$name"; fi
}

wanted() { [ ${#only[@]} -eq 0 ] || [[ " ${only[*]} " == *" $1 "* ]]; }
wanted kill-workers && case_kill_workers
wanted stalled-worker && case_stalled_worker
wanted state-restart && case_restart state-restart state
wanted target-restart && case_restart target-restart data
wanted live-writer && case_live_writer
wanted webhook-failing && case_webhook_failing

if [ $failures -gt 0 ]; then echo "$failures case(s) failed"; exit 1; fi
echo "all cases passed"
