#!/usr/bin/env python3
"""Where one client's put spends its time, from a system-wide trace of scheduler events and syscalls.

Record while a one-client put load runs (bench/prof/load.sh --clients 1 --first leader), then analyse:

  perf record -m 4096 -e sched:sched_switch,sched:sched_wakeup,syscalls:sys_enter_fdatasync,\\
      syscalls:sys_exit_fdatasync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_sendto,\\
      syscalls:sys_exit_recvfrom,syscalls:sys_exit_recvmsg --exclude-perf -a -o put.data -- sleep 0.3
  perf script -i put.data -F comm,pid,tid,cpu,time,event,trace > put.txt
  bench/prof/putpath.py put.txt

Each put is followed by the syscalls that mark its path, as microseconds after the client's send: the leader reads the
request, sends the appends, starts and ends its fdatasync; a follower starts and ends its own and acknowledges; the
leader receives the acknowledgement, sends the answer; the client receives it. The median and quartiles over the puts
of the trace are printed. --show N also prints every traced event of the N-th complete put in order: thread wake-ups,
switches and preemptions (who waited for a CPU, and behind whom). The processes are told apart by the sizes of what
they send (the request, the append with one 256-byte entry, and the answer), which is right for `parley bench put`
with its default sizes; --request, --append and --answer change them. The trace itself slows every hop by some
microseconds.
"""
import argparse, collections, re, statistics

parser = argparse.ArgumentParser()
parser.add_argument("trace")
parser.add_argument("--request", default="0x197,0x198", help="byte counts of the client's request write (hex)")
parser.add_argument("--append", default="0x189", help="byte count of the leader's append to one follower (hex)")
parser.add_argument("--answer", default="0x40,0x41,0x42,0x43",
                    help="byte counts of the leader's answer write (hex; it grows with the revision's varint)")
parser.add_argument("--ack", default="0x4b", help="byte count of a follower's acknowledgement (hex)")
parser.add_argument("--show", type=int, action="append", default=[],
                    help="also print every traced event of the N-th complete put, in order (repeatable)")
args = parser.parse_args()
sizes = lambda text: {int(x, 16) for x in text.split(",")}
REQUEST, APPEND, ANSWER, ACK = sizes(args.request), sizes(args.append), sizes(args.answer), sizes(args.ack)

line_pattern = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$")
events = []
for line in open(args.trace):
    match = line_pattern.match(line)
    if match:
        _, pid, _, _, time, name, rest = match.groups()
        events.append((float(time) * 1e6, int(pid), name, rest.strip(), match.group(1).strip(), int(match.group(3)),
                       int(match.group(4))))

def sent(rest):
    match = re.search(r"len: (0x[0-9a-f]+)", rest)
    return int(match.group(1), 16) if match else None

def received(rest):
    return int(rest, 16) if rest.startswith("0x") else None

def busiest(predicate):
    counts = collections.Counter(pid for _, pid, name, rest, *_ in events if predicate(name, rest))
    return counts.most_common(1)[0][0] if counts else None

client = busiest(lambda name, rest: name.endswith("sys_enter_sendto") and sent(rest) in REQUEST)
leader = busiest(lambda name, rest: name.endswith("sys_enter_sendto") and sent(rest) in APPEND)
if client is None or leader is None:
    raise SystemExit("no put found in the trace (check the sizes: --request, --append)")

puts, put = [], None
for position, (time, pid, name, rest, *_) in enumerate(events):
    if pid == client and name.endswith("sys_enter_sendto") and sent(rest) in REQUEST:
        put = {"client sends": time, "first event": position}
        puts.append(put)
        continue
    if put is None:
        continue
    follower = pid not in (leader, client)
    def mark(key):
        put.setdefault(key, time)
    if pid == leader and name.endswith("sys_exit_recvfrom") and received(rest) in REQUEST:
        mark("leader reads it")
    elif pid == leader and name.endswith("sys_enter_sendto") and sent(rest) in APPEND:
        mark("leader sends appends")
    elif pid == leader and name.endswith("sys_enter_fdatasync") and "leader sends appends" in put:
        mark("leader sync starts")
    elif pid == leader and name.endswith("sys_exit_fdatasync") and "leader sync starts" in put:
        mark("leader sync ends")
    elif follower and name.endswith("sys_enter_fdatasync") and "leader sends appends" in put:
        mark("follower sync starts")
    elif follower and name.endswith("sys_exit_fdatasync") and "follower sync starts" in put:
        mark("follower sync ends")
    elif follower and name.endswith("sys_enter_sendto") and sent(rest) in ACK and "follower sync ends" in put:
        mark("follower acknowledges")
    elif pid == leader and name.endswith("sys_exit_recvmsg") and received(rest) in ACK and "follower acknowledges" in put:
        mark("leader receives it")
    elif pid == leader and name.endswith("sys_enter_sendto") and sent(rest) in ANSWER:
        mark("leader answers")
    elif pid == client and name.endswith("sys_exit_recvfrom") and received(rest) in ANSWER:
        mark("client receives")
        put.setdefault("last event", position)

steps = ["leader reads it", "leader sends appends", "leader sync starts", "leader sync ends", "follower sync starts",
         "follower sync ends", "follower acknowledges", "leader receives it", "leader answers", "client receives"]
complete = [p for p in puts if all(step in p for step in steps)]
if not complete:
    raise SystemExit(f"none of {len(puts)} puts has every step (check the sizes: --append, --answer, --ack)")
print(f"{len(complete)} complete puts of {len(puts)} (client pid {client}, leader pid {leader}); µs after the client's send:")
for step in steps:
    values = sorted(p[step] - p["client sends"] for p in complete)
    quartiles = statistics.quantiles(values, n=4)
    print(f"  {step:22s} p50 {statistics.median(values):6.0f}   p25 {quartiles[0]:6.0f}   p75 {quartiles[2]:6.0f}")

def describe(name, rest):
    switch = re.search(r"prev_comm=(.*?) prev_pid=(\d+).*prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+)", rest)
    if switch:
        return f"{switch.group(1)}/{switch.group(2)} ({switch.group(3)}) -> {switch.group(4)}/{switch.group(5)}"
    wakeup = re.search(r"comm=(.*?) pid=(\d+).*target_cpu=(\d+)", rest)
    if wakeup:
        return f"wakes {wakeup.group(1)}/{wakeup.group(2)} on cpu {int(wakeup.group(3))}"
    size = sent(rest)
    return f"{size} bytes" if size is not None else rest[:60]

for n in args.show:
    put = complete[n]
    print(f"\nput {n}: every event from the client's send to its receive (µs after the send; S = went to sleep, "
          "R = preempted while runnable)")
    for time, pid, name, rest, comm, tid, cpu in events[put["first event"]:put["last event"] + 1]:
        role = "client" if pid == client else "leader" if pid == leader else "idle" if pid == 0 else f"pid {pid}"
        print(f"  {time - put['client sends']:6.0f} cpu{cpu} {role:13s} {comm[:15]:15s} {tid:7d} "
              f"{name.split(':')[-1]:20s} {describe(name, rest)}")
