#!/usr/bin/env python3
"""Prints the MySQL benchmark's table from the rounds' times (`tool seconds peak-KB` lines).

usage: summary.py N TIMES "CHECKSUMS" RUN_JSON VERIFY_JSON DAMAGED_ROWS
"""
import json
import sys

n, times, checksums, run_json, verify_json, damaged = sys.argv[1:7]
n, damaged = int(n), int(damaged)
runs = {}
for line in open(times):
    if len(line.split()) != 3:
        continue  # time's "Command exited with non-zero status 3": verify found the damage
    tool, secs, rss = line.split()
    runs.setdefault(tool, []).append((float(secs), int(rss) // 1024))
best = {tool: min(r) for tool, r in runs.items()}
lim, run, rerun, verify = best["limit"], best["run"], best["rerun"], best["verify"]
src, dst, copy = checksums.split()[:3]
summary, report = json.load(open(run_json)), json.load(open(verify_json))
found = sum(report.get(k, 0) for k in ("missing", "extra", "different", "newerInTarget"))
written = {k: summary["counters"][k] for k in ("inserted", "updated", "unchanged")}
print(f"MariaDB → MariaDB, {n:,} rows of the peers' events table, {damaged:,} damaged; best of 2 rounds, one server")
print("| N | mysqldump \\| mariadb into an empty table (the limit) | backfill run into the damaged copy | ÷ limit rows/s | rerun | backfill verify of the damaged copy | rows verify found / damaged | backfill peak RSS | target = source |")
print("|---|---|---|---|---|---|---|---|---|")
print(f"| {n:,} | {lim[0]:.2f} s ({n / lim[0]:,.0f} rows/s) | {run[0]:.2f} s ({n / run[0]:,.0f} rows/s) | {lim[0] / run[0]:.0%} "
      f"| {rerun[0]:.2f} s ({rerun[0] / lim[0]:.0%} of the limit's time) | {verify[0]:.2f} s | {found:,} / {damaged:,} "
      f"| {max(run[1], verify[1])} MB | {'yes' if src == dst == copy else 'NO'} |")
print("written:", written)
print("every round (s):", {tool: [s for s, _ in r] for tool, r in runs.items()})
