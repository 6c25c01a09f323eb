#!/usr/bin/env python3
"""Writes N rows as 8 CSV parts with a header each, as a warehouse export does (then gzipped by the caller).

usage: make-export.py N DIR
"""
import sys

n, out = int(sys.argv[1]), sys.argv[2]
per = -(-n // 8)
for part in range(8):
    with open(f"{out}/{part:012d}.csv", "w") as f:
        f.write("id,customer,amount,placed_at,note\n")
        for i in range(part * per + 1, min(n, (part + 1) * per) + 1):
            note = "" if i % 7 == 0 else ('"said ""hi"", twice"' if i % 5 == 0 else f"n{i % 1000}")
            f.write(f"{i},cust-{i % 9973},{i % 100000}.{i % 100},2024-0{1 + i % 9}-1{i % 10}T0{i % 10}:00:00Z,{note}\n")
