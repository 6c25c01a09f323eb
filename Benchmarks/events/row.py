#!/usr/bin/env python3
"""One row of `scripts/bench.sh events`: what the receiver saw and how long the run took.

usage: row.py TALLY FAULTS CONCURRENCY EVENTS TIME_FILE RATES_FILE

TIME_FILE holds `/usr/bin/time -f "%e %M"` (seconds, peak RSS in KB). The first fault-free run at a
concurrency records its rate in RATES_FILE; later runs at that concurrency print their ratio to it.
"""
import json
import sys

tally_file, faults, concurrency, events, time_file, rates_file = sys.argv[1:7]
n = int(events)
tally = json.load(open(tally_file))
seconds, rss_kb = (float(x) for x in open(time_file).read().split()[-2:])
rates = dict(line.split() for line in open(rates_file) if line.strip())
rate = n / seconds
if faults == "none" and concurrency not in rates:
    with open(rates_file, "a") as out:
        out.write(f"{concurrency} {rate}\n")
    ratio = "—"
else:
    ratio = f"{rate / float(rates[concurrency]):.0%}" if concurrency in rates else "—"
once = "yes" if tally["processed"] == n and tally["unique"] == n else f'NO ({tally["unique"]} of {n})'
print(
    f"| {faults} | {concurrency} | {n:,} | {seconds:.2f} s | {rate:,.0f} | {ratio} | {rss_kb / 1024:.0f} MB | {once} | "
    f'{tally["redeliveries"]} | {tally["requests"]:,} | {"yes" if tally["in_order"] else "NO"} | {tally["bad_signatures"]} |'
)
