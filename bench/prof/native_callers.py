#!/usr/bin/env python3
"""For samples whose leaf is in DSO (default libcoreclr.so): the first frame above it outside that DSO.
native_callers.py SCRIPT.txt PIDS [DSO]"""
import sys, re, collections
sys.path.insert(0, __import__("os").path.dirname(__file__))
from importlib import util
spec = util.spec_from_file_location("agg", __import__("os").path.join(__import__("os").path.dirname(__file__), "agg.py"))
path, pids = sys.argv[1], {int(p) for p in sys.argv[2].split(",")}
dso = "[" + (sys.argv[3] if len(sys.argv) > 3 else "libcoreclr.so") + "]"
exec(open(spec.origin).read().split("def main")[0])
total = 0; hits = collections.Counter(); n = 0
for pid, comm, stack in parse(path, pids):
    total += 1
    if stack and stack[0] == dso:
        n += 1
        above = next((s for s in stack if s != dso and not s.startswith("[")), "(none)")
        hits[(comm, above)] += 1
print(f"{n} of {total} samples have {dso} as leaf")
for (comm, s), c in hits.most_common(40):
    print(f"{100.0*c/total:5.1f}% {comm[:16]:16} {s[:150]}")
