#!/usr/bin/env bash
# One measured put (or other) load on a fresh 3-member Parley cluster of separate `parley serve` processes,
# with the members' CPU seconds read from /proc. Optional perf profile of the whole machine during the load.
#
#   bench/prof/load.sh [--build DIR] [--port-offset N] [--clients N] [--seconds S] [--workload W] [--perf OUT]
#                      [--first leader|follower] [--history S]
#
# --build DIR: a directory holding parley.dll (default: this checkout's ./parley build). Copy a build aside
# (cp -r .parley-build/bin /tmp/A) to A/B two commits with interleaved runs.
# --first: put the leader's (or a follower's) endpoint first, where a one-client load goes (default: m1, either).
# --history S: S seconds of 64-client puts before the measured load (the keyspace history, heap and WAL that a bench
# compare's later phases find; its one-client run comes after three 64-client workloads).
# Prints one line: label, workload, clients, ops/s, p50, p99, p99.9, max (ms), server CPU µs per op (members summed), client CPU µs
# per op, member threads' voluntary context switches per op, bytes the members allocated per op.
# Environment: PARLEY_ENV (extra variables for the members only), LOAD_TMP=/dev/shm (the members' data on tmpfs, where
# fdatasync costs nothing: the software part of a put's latency alone), LOAD_METRICS=PREFIX (keeps each member's /metrics
# after the load as PREFIX-N.txt and its log as PREFIX-mN.log). On a noisy VM,
# compare server/client CPU (the client does the same work in every variant, so the ratio cancels the machine's speed
# of the moment), switches per op and bytes per op.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build=""; first=""; history=0; offset=1000; clients=64; seconds=15; warmup=3; workload=put; perf_out=""; label=run
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2;;
    --port-offset) offset="$2"; shift 2;;
    --clients) clients="$2"; shift 2;;
    --seconds) seconds="$2"; shift 2;;
    --warmup) warmup="$2"; shift 2;;
    --workload) workload="$2"; shift 2;;
    --perf) perf_out="$2"; shift 2;;
    --label) label="$2"; shift 2;;
    --first) first="$2"; shift 2;;
    --history) history="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
# As the parley launcher does (members and client inherit it); PARLEY_ENV may override it for the members.
export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x4000000}" DOTNET_TC_CallCountingDelayMs="${DOTNET_TC_CallCountingDelayMs:-0}"
if [ -z "$build" ]; then "$root/parley" --help >/dev/null; build="$root/.parley-build/bin"; fi
dll="$build/parley.dll"
work="$(mktemp -d "${LOAD_TMP:-/tmp}/parley-load.XXXXXX")"  # LOAD_TMP=/dev/shm: data on tmpfs (fsync free)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cluster=""; endpoints=""
for i in 1 2 3; do
  c=$((offset + i * 10000 - 7621)); p=$((c + 1))
  cluster="${cluster:+$cluster,}m$i=http://127.0.0.1:$p"
  endpoints="${endpoints:+$endpoints,}127.0.0.1:$c"
done
for i in 1 2 3; do
  c=$((offset + i * 10000 - 7621)); p=$((c + 1))
  env ${PARLEY_ENV:-} dotnet "$dll" serve --name "m$i" --data-dir "$work/m$i" \
    --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
    --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token prof >"$work/m$i.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 1 100); do
  ok=0; for e in ${endpoints//,/ }; do curl -fs "http://$e/readyz" >/dev/null 2>&1 && ok=$((ok + 1)); done
  [ "$ok" = 3 ] && break; sleep 0.2
done
# Which member leads (a one-client load goes to the first endpoint: a follower adds the forward to the leader).
leader=none
for _ in $(seq 1 50); do  # an election may still be under way when every member is ready
  i=0
  for e in ${endpoints//,/ }; do i=$((i + 1)); curl -fs "http://$e/metrics" 2>/dev/null | grep -q '^etcd_server_is_leader 1' && leader="m$i"; done
  [ "$leader" != none ] && break; sleep 0.2
done
if [ -n "$first" ] && [ "$leader" != none ]; then
  n=${leader#m}; lead_ep=$(echo "$endpoints" | cut -d, -f"$n"); rest=$(echo "$endpoints" | tr , '\n' | grep -vx "$lead_ep" | paste -sd,)
  if [ "$first" = leader ]; then endpoints="$lead_ep,$rest"; else endpoints="$rest,$lead_ep"; fi
fi
label="$label leader=$leader first=${endpoints%%,*}"
if [ "$history" != 0 ]; then
  dotnet "$build/parley.dll" bench put --endpoints "$endpoints" --clients 64 --duration "${history}s" --no-progress -o json >/dev/null 2>"$work/history.err" ||
    { cat "$work/history.err" >&2; exit 1; }
fi
cpu() { local t=0; for p in "${pids[@]}"; do set -- $(cut -d' ' -f14,15 "/proc/$p/stat"); t=$((t + $1 + $2)); done; echo "$t"; }
# Context switches of every member thread (voluntary: a thread went to sleep, i.e. a hand-off between threads): a
# count of hops that does not depend on how fast this shared VM happens to be (CPU seconds per op do).
switches() { cat /proc/"${pids[0]}"/task/*/status /proc/"${pids[1]}"/task/*/status /proc/"${pids[2]}"/task/*/status 2>/dev/null |
  awk '/^voluntary_ctxt_switches/ {s += $2} END {print s + 0}'; }
# Bytes the members allocated on the managed heap (a measure that does not depend on the VM's speed either).
allocated() { local t=0 v; for e in ${endpoints//,/ }; do
  v=$(curl -fs "http://$e/metrics" | awk '/^dotnet_gc_heap_total_allocated_bytes_total / {printf "%d", $2}'); t=$((t + ${v:-0})); done; echo "$t"; }
# One client process: its warm-up (JIT of client and members, connections) runs first; the counters start when it says
# the measured phase began (a separate warm-up process would leave the measured client cold: its JIT then ate a core).
dotnet "$build/parley.dll" bench "$workload" --endpoints "$endpoints" --clients "$clients" --warmup "${warmup}s" \
  --duration "${seconds}s" --no-progress -o json >"$work/result.json" 2>"$work/client.err" &
client_pid=$!
for _ in $(seq 1 $(( (warmup + 60) * 20 ))); do
  grep -q "measuring" "$work/client.err" 2>/dev/null && break
  kill -0 "$client_pid" 2>/dev/null || break
  sleep 0.05
done
before=$(cpu); switches_before=$(switches); allocated_before=$(allocated)
if [ -n "$perf_out" ]; then
  (sleep 2; perf record -e cpu-clock -F 499 -a -g -o "$perf_out" -- sleep $((seconds - 4)) >/dev/null 2>&1) &
  perf_pid=$!
fi
wait "$client_pid" || { cat "$work/client.err" >&2; exit 1; }
after=$(cpu); switches_after=$(switches); allocated_after=$(allocated)
if [ -n "${LOAD_METRICS:-}" ]; then  # each member's /metrics after the load, as LOAD_METRICS-mN.txt
  i=0; for e in ${endpoints//,/ }; do i=$((i + 1)); curl -fs "http://$e/metrics" >"$LOAD_METRICS-$i.txt" 2>/dev/null || true; done
  for i in 1 2 3; do cp "$work/m$i.log" "$LOAD_METRICS-m$i.log"; done
fi
[ -n "${perf_pid:-}" ] && wait "$perf_pid"
python3 - "$work/result.json" "$before" "$after" "$label" "$workload" "$clients" "$((switches_after - switches_before))" "$((allocated_after - allocated_before))" <<'PY'
import json, sys, os
r = json.load(open(sys.argv[1]))
hz = os.sysconf("SC_CLK_TCK")
cpu_s = (int(sys.argv[3]) - int(sys.argv[2])) / hz
ops, count, lat = r["throughput_per_second"], r["operations"], r["latency"]
per = cpu_s / count * 1e6 if count else float("nan")
client = r["client_cpu_seconds"] / count * 1e6 if count else float("nan")
print(f"{sys.argv[4]} {sys.argv[5]} clients={sys.argv[6]} ops/s={ops:.0f} p50={lat['p50_ms']:.3f} p99={lat['p99_ms']:.3f} "
      f"p999={lat['p999_ms']:.1f} max={lat['max_ms']:.1f} server_cpu_us_per_op={per:.1f} server_cpu_s={cpu_s:.2f} client_cpu_us_per_op={client:.1f} "
      f"server_switches_per_op={int(sys.argv[7]) / count if count else float('nan'):.1f} "
      f"server_alloc_bytes_per_op={int(sys.argv[8]) / count if count else float('nan'):.0f} errors={r['errors']}"
      + (f" watch_events/s={w['events_per_second']:.0f} delivery_p50={w['delivery_latency']['p50_ms']:.3f} "
         f"delivery_p99={w['delivery_latency']['p99_ms']:.3f}" if (w := r.get("watch")) else ""))
PY
