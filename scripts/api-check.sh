#!/usr/bin/env bash
# Checks the live API against docs/openapi.yaml with schemathesis (from PyPI, in a venv under
# .build-schemathesis): examples, coverage, fuzzing and stateful phases, every check, against a real
# `backfill serve` with a bearer token over a state store holding a planned, a paused, a completed
# and a cancelled run with quarantined rows. Exits non-zero on any failure. Needs `swift build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build-schemathesis
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q schemathesis==4.32.5
fi
bin=$(pwd)/.build/debug/backfill
work=$(mktemp -d /tmp/backfill-api.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A state store with runs in every state: the demo's completed run, then runs stopped at --limit
# (planned), one of them paused and one cancelled.
(cd "$work" && "$bin" demo --dir demo --rows 3000 >/dev/null)
cd "$work/demo"
"$bin" run backfill.yaml --limit 500 >/dev/null
"$bin" pause 2 >/dev/null
sed 's/^name: .*/name: demo-cancelled/' backfill.yaml >cancelled.yaml
"$bin" run cancelled.yaml --limit 100 >/dev/null
"$bin" cancel 3 >/dev/null
sed 's/^name: .*/name: demo-planned/' backfill.yaml >planned.yaml
"$bin" run planned.yaml --limit 100 >/dev/null
cd - >/dev/null
state="$work/demo/.backfill/state.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=api-check-token
BACKFILL_API_TOKEN=$token "$bin" serve --state "$state" --port "$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 200); do grep -q "serving on" "$work/serve.log" && break; sleep 0.05; done
grep -q "serving on" "$work/serve.log" || { cat "$work/serve.log"; exit 1; }

"$venv/bin/schemathesis" run docs/openapi.yaml --url "http://127.0.0.1:$port" \
  --header "Authorization: Bearer $token" --checks all --phases examples,coverage,fuzzing,stateful \
  --max-examples 40 --seed 1 --no-color
