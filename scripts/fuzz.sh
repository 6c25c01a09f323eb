#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted input with libFuzzer (and AddressSanitizer):
#   scripts/fuzz.sh [SECONDS per target, default 60] [TARGET…]   (targets: csv jsonl spec dsn retry-after)
# Builds Fuzz/ into .build-fuzz (BACKFILL_FUZZ=1 adds the target to Package.swift; every module
# is compiled with -sanitize=fuzzer,address there, the normal build is untouched). Each target keeps
# its corpus in .build-fuzz/corpus/TARGET, seeded from Fuzz/seeds/TARGET; a finding is written to
# .build-fuzz/findings/TARGET and fails the script. Prints executions and crashes per target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv jsonl spec dsn retry-after)

export BACKFILL_FUZZ=1
export SWIFT_BACKTRACE=enable=no   # libFuzzer reports crashes itself; Swift's backtracer would hang it
swift build --scratch-path .build-fuzz --product backfill-fuzz -Xswiftc -sanitize=fuzzer,address >/dev/null
binary=.build-fuzz/debug/backfill-fuzz

failed=0
for target in "${targets[@]}"; do
  corpus=.build-fuzz/corpus/$target findings=.build-fuzz/findings/$target
  mkdir -p "$corpus" "$findings"
  [ -d "Fuzz/seeds/$target" ] && cp -n Fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  log=.build-fuzz/fuzz-$target.log
  status=0
  BACKFILL_FUZZ_TARGET=$target "$binary" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  crashes=$(ls "$findings" | wc -l)
  echo "fuzz $target: ${seconds}s, $runs executions, $crashes crashes (corpus $(ls "$corpus" | wc -l) inputs)"
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    grep -a -m 20 -E 'ERROR|Fatal error|SUMMARY|panic|==[0-9]+==' "$log" >&2 || tail -20 "$log" >&2
  fi
done
exit $failed
