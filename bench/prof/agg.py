#!/usr/bin/env python3
"""Shares of CPU samples from `perf script -F pid,tid,comm,ip,sym,dso` output.

agg.py SCRIPT.txt PIDS [--leaf N] [--incl N] [--grep REGEX ...]
PIDS: comma-separated process ids to count (e.g. the members'); samples of other processes are ignored.
Prints: samples per thread name, top leaf frames (self), top frames by inclusive share, and for each --grep
the share of samples whose stack has a frame matching it.
"""
import re, sys, collections

def parse(path, pids):
    sample = None
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if sample and sample[0] in pids:
                    yield sample
                sample = None
                continue
            if not line.startswith("\t") and not line.startswith(" "):
                m = re.match(r"^(.*?)\s+(\d+)/(\d+)\s*$", line.rstrip())
                if m:
                    sample = (int(m.group(2)), m.group(1).strip(), [])
                continue
            if sample is not None:
                parts = line.strip().split(None, 1)
                rest = parts[1] if len(parts) > 1 else ""
                m = re.match(r"^(.*) \((.*)\)$", rest)
                sym, dso = (m.group(1), m.group(2)) if m else (rest, "")
                if sym == "[unknown]":
                    sym = "[" + dso.rsplit("/", 1)[-1] + "]"
                sym = re.sub(r"\[OptimizedTier1\]|\[Optimized\]|\[Tier0\]|\[Tier1\]|\[PreJIT\]|\[QuickJitted\]|\[OSR\]", "", sym).strip()
                sample[2].append(sym)
    if sample and sample[0] in pids:
        yield sample

def main():
    args = sys.argv[1:]
    path, pids = args[0], {int(p) for p in args[1].split(",")}
    leaf_n, incl_n, greps = 40, 60, []
    i = 2
    while i < len(args):
        if args[i] == "--leaf": leaf_n = int(args[i + 1]); i += 2
        elif args[i] == "--incl": incl_n = int(args[i + 1]); i += 2
        elif args[i] == "--grep": greps.append(args[i + 1]); i += 2
        else: raise SystemExit("unknown " + args[i])
    total = 0
    threads = collections.Counter(); leaf = collections.Counter(); incl = collections.Counter()
    grep_hits = collections.Counter()
    for pid, comm, stack in parse(path, pids):
        total += 1
        threads[comm] += 1
        if stack:
            leaf[stack[0]] += 1
        for s in set(stack):
            incl[s] += 1
        for g in greps:
            if any(re.search(g, s) for s in stack):
                grep_hits[g] += 1
    pct = lambda n: f"{100.0 * n / max(total, 1):5.1f}%"
    print(f"samples: {total}")
    print("-- threads"); [print(pct(n), t) for t, n in threads.most_common(15)]
    print("-- leaf (self)"); [print(pct(n), s[:160]) for s, n in leaf.most_common(leaf_n)]
    print("-- inclusive"); [print(pct(n), s[:160]) for s, n in incl.most_common(incl_n)]
    if greps:
        print("-- grep"); [print(pct(grep_hits[g]), g) for g in greps]

main()
