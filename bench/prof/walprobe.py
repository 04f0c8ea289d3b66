#!/usr/bin/env python3
"""What a WAL's fdatasync costs on this disk while something else writes to it.

walprobe.py SECONDS [DIR]
Writes 16 KiB at increasing offsets of a preallocated 64 MiB file in DIR (default: the current directory) and
fdatasyncs after each write, for SECONDS; prints the count, p50, p99 and max of write+fdatasync and how many took over
50 ms. Run it alone for the disk's floor, then alongside another writer (e.g. `dd if=/dev/zero of=big bs=1M count=300
conv=fdatasync`) to see how long a WAL sync waits behind it. The file is removed at the end.
"""
import os, sys, time

seconds = float(sys.argv[1])
path = os.path.join(sys.argv[2] if len(sys.argv) > 2 else ".", "walprobe.tmp")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
try:
    os.posix_fallocate(fd, 0, 64 << 20)
    block = b"x" * 16384
    latencies, offset, end = [], 0, time.time() + seconds
    while time.time() < end:
        started = time.perf_counter()
        os.pwrite(fd, block, offset)
        os.fdatasync(fd)
        latencies.append(time.perf_counter() - started)
        offset = (offset + len(block)) % (60 << 20)
    latencies.sort()
    n = len(latencies)
    print(f"n={n} p50={latencies[n // 2] * 1e3:.2f} p99={latencies[int(n * .99)] * 1e3:.2f} "
          f"max={latencies[-1] * 1e3:.1f} ms; over 50 ms: {sum(1 for x in latencies if x > 0.05)}")
finally:
    os.close(fd)
    os.unlink(path)
