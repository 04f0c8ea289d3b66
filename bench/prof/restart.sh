#!/usr/bin/env bash
# Restart time of a follower holding many keys, with what the member says it recovered (its `recovered:` log line:
# time to read the WAL and snapshot, time to restore the keyspace).
#
#   bench/prof/restart.sh [--build DIR] [--keys N] [--settle S]
#
# Starts a 3-member cluster of `parley serve` processes on 127.0.0.1:6380/6390/6400 (peers +1), preloads N keys
# (default 1,000,000; `parley bench get` writes them in Txns of 100 puts), stops m2 with SIGTERM, starts it again and
# times until a get of the last key through m2 succeeds (linearizable, so m2 has rejoined). Everything is deleted at
# the end. --build DIR: a directory holding parley.dll (default: this checkout's ./parley build). --settle S: seconds
# between the load and the stop (default 8, so snapshots finish; `bench compare` waits 3). RESTART_LOG=N in the
# environment also prints the last N lines of m2's log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build=""; keys=1000000; settle=8
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2;;
    --keys) keys="$2"; shift 2;;
    --settle) settle="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x4000000}" DOTNET_TC_CallCountingDelayMs="${DOTNET_TC_CallCountingDelayMs:-0}"  # as ./parley does
if [ -z "$build" ]; then "$root/parley" --help >/dev/null; build="$root/.parley-build/bin"; fi
dll="$build/parley.dll"
work="$(mktemp -d /tmp/parley-restart.XXXXXX)"
cleanup() { for i in 1 2 3; do [ -f "$work/m$i.pid" ] && kill -TERM "$(cat "$work/m$i.pid")" 2>/dev/null || true; done; sleep 2; rm -rf "$work"; }
trap cleanup EXIT
cluster="m1=http://127.0.0.1:6381,m2=http://127.0.0.1:6391,m3=http://127.0.0.1:6401"
start() {
  local i=$1 c=$((6370 + $1 * 10)); local p=$((c + 1))
  dotnet "$dll" serve --name "m$i" --data-dir "$work/m$i" --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
    --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" --initial-cluster "$cluster" \
    --initial-cluster-state new --initial-cluster-token restart >>"$work/m$i.log" 2>&1 &
  echo $! >"$work/m$i.pid"
}
for i in 1 2 3; do start "$i"; done
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:6390/readyz >/dev/null 2>&1 && break; sleep 0.2; done
dotnet "$dll" bench get --endpoints 127.0.0.1:6380,127.0.0.1:6390,127.0.0.1:6400 --key-count "$keys" --duration 1s --warmup 1s --clients 8 >"$work/bench.log" 2>&1
sleep "$settle"  # by default long enough for the members to finish their snapshots
key=$(ETCDCTL_API=3 etcdctl --endpoints 127.0.0.1:6380 get "" --prefix --keys-only --limit 1 --sort-by=KEY --order=DESCEND | head -1)
kill -TERM "$(cat "$work/m2.pid")"; sleep 3
t0=$(date +%s.%N); echo "m2 started at $(date +%H:%M:%S.%N | cut -c1-12)"; start 2
served=no
for _ in $(seq 1 600); do
  if ETCDCTL_API=3 etcdctl --endpoints 127.0.0.1:6390 --command-timeout 1s get "$key" >/dev/null 2>&1; then served=yes; break; fi
  sleep 0.05
done
t1=$(date +%s.%N)
[ "$served" = yes ] && echo "m2 restart until it serves '$key': $(echo "$t1 - $t0" | bc) s" || echo "m2 did not serve within 30 s"
echo "m2 served at $(date +%H:%M:%S.%N | cut -c1-12)"
grep -E "recovered" "$work/m2.log" | tail -1
if [ -n "${RESTART_LOG:-}" ]; then tail -n "$RESTART_LOG" "$work/m2.log"; fi
