#!/usr/bin/env python3
"""Summarises scripts/bench.sh live: pgbench's TPS and latency percentiles while each backfill ran
(from pgbench's per-transaction logs), against pgbench alone, in one table.

usage: summary.py DIR ROUND... — each ROUND has DIR/ROUND.window ("t0 t1 backfill_seconds result
wal_mb"), and pgbench logs DIR/ROUND.log*.
"""
import glob
import sys


def latencies(prefix, t0, t1):
    """Latencies (ms) of transactions that ended within [t0, t1]."""
    out = []
    for path in glob.glob(prefix + ".log*"):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6:
                    continue
                end = int(parts[4]) + int(parts[5]) / 1e6
                if t0 <= end <= t1:
                    out.append(int(parts[2]) / 1000.0)
    return sorted(out)


def pct(values, p):
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


directory, rounds = sys.argv[1], sys.argv[2:]
rows = []
for name in rounds:
    t0, t1, seconds, result, wal = open(f"{directory}/{name}.window").read().split()
    t0, t1 = float(t0), float(t1)
    lat = latencies(f"{directory}/{name}", t0, t1)
    rows.append((name, t1 - t0, len(lat) / (t1 - t0), pct(lat, 0.5), pct(lat, 0.99), seconds, result, wal))

base = rows[0]
print("| round | window | pgbench TPS | TPS vs alone | p50 ms | p99 ms | p99 vs alone | backfill time | target = source | WAL MB |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, window, tps, p50, p99, seconds, result, wal in rows:
    print(
        f"| {name} | {window:.0f} s | {tps:,.0f} | {tps / base[2] - 1:+.0%} | {p50:.2f} | {p99:.2f} | {p99 / base[4]:.2f}× "
        f"| {seconds.replace('_', ' ')} | {result} | {wal} |"
    )
