#!/usr/bin/env python3
"""The floor of scripts/bench.sh events under faults: an event-driven model of an ideal deliverer.

It keeps per-key order (a key's next event waits for its previous one), fills every request slot
the moment a key is ready, honours Retry-After for the event's key only, retries a 500 after a
20-40 ms backoff, and has no concurrency control, circuit or read-ahead limit of any kind — so no
real deliverer can be faster. Requests take the service time the fault-free run measured at that
concurrency. The receiver's faults are those of Benchmarks/receiver (by request count, as there):

  outage  1,000 keys x 100 events; every 20th request 429 + Retry-After: 1, 15% of the others
          500; down for 3 s (added to the time: no request can be answered meanwhile)
  mixed   1,000 keys x 10 events; every 37th request 429 + Retry-After: 1, 20% 500, every 53rd
          processed event answered after 1.5 s (past the 1 s timeout: the slot is held 1 s and the
          event sent again)

usage: model.py FAULT-FREE-EVENTS/S-AT-64 [FAULT-FREE-EVENTS/S-AT-8]
"""
import heapq
import random
import sys


def simulate(profile, concurrency, service, seed=1):
    """Seconds until every event is delivered, and the requests sent."""
    keys, per = (1000, 100) if profile == "outage" else (1000, 10)
    rnd = random.Random(seed)
    remaining = dict.fromkeys(range(keys), per)
    ready, in_flight, timers = [], [], []
    order = 0
    now = 0.0
    requests = processed = delivered = 0

    def make_ready(key, at):
        nonlocal order
        order += 1
        heapq.heappush(ready, (at, order, key))

    for key in range(keys):
        make_ready(key, 0.0)
    while delivered < keys * per:
        while len(in_flight) < concurrency and ready:
            _, _, key = heapq.heappop(ready)
            requests += 1
            if profile == "outage":
                outcome = "429" if requests % 20 == 0 else "500" if rnd.random() < 0.15 else "ok"
                took = service
            else:
                outcome = "429" if requests % 37 == 0 else "500" if rnd.random() < 0.2 else "ok"
                took = service
                if outcome == "ok":
                    processed += 1
                    if processed % 53 == 0:
                        outcome, took = "timeout", 1.0
            heapq.heappush(in_flight, (now + took, order, key, outcome))
            order += 1
        now = min(in_flight[0][0] if in_flight else float("inf"), timers[0][0] if timers else float("inf"))
        while timers and timers[0][0] <= now:
            _, _, key = heapq.heappop(timers)
            make_ready(key, now)
        while in_flight and in_flight[0][0] <= now:
            _, _, key, outcome = heapq.heappop(in_flight)
            if outcome == "ok":
                remaining[key] -= 1
                delivered += 1
                if remaining[key]:
                    make_ready(key, now)
            else:
                delay = 1.0 if outcome == "429" else rnd.uniform(0.02, 0.04)
                heapq.heappush(timers, (now + delay, order, key))
                order += 1
    return now + (3.0 if profile == "outage" else 0.0), requests, keys * per


def main():
    free64 = float(sys.argv[1])
    free8 = float(sys.argv[2]) if len(sys.argv) > 2 else None
    print("| faults | concurrency | events | model floor | events/s | vs no faults | requests |")
    print("|---|---|---|---|---|---|---|")
    runs = [("outage", 64, free64), ("mixed", 64, free64)] + ([("mixed", 8, free8)] if free8 else [])
    for profile, concurrency, free in runs:
        seconds, requests, events = simulate(profile, concurrency, concurrency / free)
        rate = events / seconds
        print(f"| {profile} | {concurrency} | {events:,} | {seconds:.2f} s | {rate:,.0f} | {rate / free:.0%} | {requests:,} |")


if __name__ == "__main__":
    main()
