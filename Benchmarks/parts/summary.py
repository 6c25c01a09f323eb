#!/usr/bin/env python3
"""Prints the parts benchmark's table from the rounds' times (`tool seconds peak-KB` lines).

usage: summary.py N TIMES COPY_MD5 BACKFILL_MD5 SHAPE EXPORT_BYTES
"""
import sys

n, times, a, b, shape, size = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
runs = {}
for line in open(times):
    tool, secs, rss = line.split()
    runs.setdefault(tool, []).append((float(secs), int(rss) // 1024))
best = {tool: min(r) for tool, r in runs.items()}
c, f, u = best["copy"], best["backfill"], best["unjournaled"]
print(f"8 gzipped CSV parts, {n:,} rows, {size / 1e6:.1f} MB; the table backfill created: {shape}")
print("| N | zcat \\| psql \\copy (best of 2) | backfill run, spec from `init --from` (best of 2) | ÷ copy rows/s | the same with `journal: off` | ÷ copy rows/s | backfill peak RSS | tables equal |")
print("|---|---|---|---|---|---|---|---|")
print(f"| {n:,} | {c[0]:.2f} s ({n / c[0]:,.0f} rows/s) | {f[0]:.2f} s ({n / f[0]:,.0f} rows/s) | {c[0] / f[0]:.0%} "
      f"| {u[0]:.2f} s ({n / u[0]:,.0f} rows/s) | {c[0] / u[0]:.0%} | {f[1]} MB | {'yes' if a == b else 'NO'} |")
print("every round (s):", {tool: [s for s, _ in r] for tool, r in runs.items()})
