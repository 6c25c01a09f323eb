#!/usr/bin/env python3
"""Prints the MySQL benchmark's tables from the rounds' times (`tool seconds peak-KB` lines) and what
each repair left differing (`tool rows` lines, the server's own join: Benchmarks/mysql/left.sql).

usage: summary.py N TIMES LEFT "CHECKSUMS" RUN_JSON VERIFY_JSON DAMAGED_ROWS
"""
import json
import sys

n, times, left_file, checksums, run_json, verify_json, damaged = sys.argv[1:8]
n, damaged = int(n), int(damaged)
runs = {}
for line in open(times):
    if len(line.split()) != 3:
        continue  # time's "Command exited with non-zero status 3": verify found the damage
    tool, secs, rss = line.split()
    runs.setdefault(tool, []).append((float(secs), int(rss) // 1024))
left = {}
for line in open(left_file):
    tool, rows = line.split()
    left[tool] = max(left.get(tool, 0), int(rows))
best = {tool: min(r) for tool, r in runs.items()}
src, copy = checksums.split()[:2]
summary, report = json.load(open(run_json)), json.load(open(verify_json))
found = sum(report.get(k, 0) for k in ("missing", "extra", "different", "newerInTarget"))
counters = summary["counters"]


def s(tool):
    return f"{best[tool][0]:.2f} s"


lim = best["limit"][0]
print(f"MariaDB → MariaDB, {n:,} rows of the peers' events table, {damaged:,} damaged; best of 2 rounds, one server")
print()
print("| | seconds | rows/s or ratio | peak RSS | checked |")
print("|---|---|---|---|---|")
print(f"| mysqldump \\| mariadb into an empty table (the limit) | {s('limit')} | {n / lim:,.0f} rows/s | — "
      f"| {'CHECKSUM TABLE equal' if src == copy else 'CHECKSUM TABLE DIFFERS'} |")
print(f"| backfill run into the damaged copy | {s('run')} | {n / best['run'][0]:,.0f} rows/s, {lim / best['run'][0]:.0%} of the limit's "
      f"| {best['run'][1]} MB | {left['run']} rows left differing; {counters['shippedRows']:,} rows shipped from the source |")
print(f"| backfill run again (equal target) | {s('rerun')} | {best['rerun'][0] / lim:.0%} of the limit's time | {best['rerun'][1]} MB | nothing written |")
print(f"| backfill verify of the damaged copy | {s('verify')} | {best['pt-table-checksum'][0] / best['verify'][0]:.2f}× pt-table-checksum's speed "
      f"| {best['verify'][1]} MB | {found:,} of {damaged:,} damaged rows found, each named |")
print(f"| pt-table-checksum of both tables | {s('pt-table-checksum')} | — | — | per-chunk checksums only: names no row |")
print(f"| backfill verify --repair | {s('verify-repair')} | {best['pt-table-sync'][0] / best['verify-repair'][0]:.1f}× pt-table-sync's speed "
      f"| {best['verify-repair'][1]} MB | {left['verify-repair']} rows left differing |")
print(f"| backfill run as the repair | {s('run')} | {best['pt-table-sync'][0] / best['run'][0]:.1f}× pt-table-sync's speed | | {left['run']} rows left differing |")
print(f"| pt-table-sync --execute | {s('pt-table-sync')} | — | — | {left['pt-table-sync']} rows left differing |")
print()
print("written by the run:", {k: counters[k] for k in ("inserted", "updated", "unchanged", "shippedRows")})
print("every round (s):", {tool: [t for t, _ in r] for tool, r in runs.items()})
