#!/usr/bin/env bash
# Two builds of the sync server under the same load, in turns, so that this shared machine's drift weighs on
# both alike (the A/B figures of BENCHMARKS.md). Each run: a fresh data directory, `serve --demo` on
# 127.0.0.1:18181, one `loadgen` run, its summary line prefixed with the server's name and followed by the
# server's CPU time per finding (user and system, the devices' registration included). The data directories
# are removed only at the end: on an ext4 without a journal (as on these machines) the inode allocator passes
# over inodes freed in the last minutes, so deleting one run's 6,000 photo files would slow the next run's
# file creation by a tenth, a cost no server that keeps its photos pays.
#
#   cp target/release/sync-server /tmp/server-a      # the build before the change
#   cargo build --release -p sync-server -p loadgen  # the build with it, and the load generator
#   scripts/bench-server-ab.sh /tmp/server-a target/release/sync-server 3 \
#       --mode ingest --devices 50 --findings 100000 --batch 100
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 SERVER_A SERVER_B ROUNDS [loadgen arguments...]" >&2
  exit 2
fi
a=$1 b=$2 rounds=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
loadgen=${LOADGEN_BIN:-$root/target/release/loadgen}
listen=127.0.0.1:18181
work=$(mktemp -d "${TMPDIR:-/tmp}/tjb-ab.XXXXXX")
server=
runs=0

stop() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
  fi
}
trap 'stop; rm -rf "$work"' EXIT

run() {
  runs=$((runs + 1))
  local bin=$1 data="$work/data-$runs"
  shift
  "$bin" serve --data "$data" --listen "$listen" --demo >"$work/server.log" 2>&1 &
  server=$!
  local tries=0
  until curl -sf -o /dev/null "http://$listen/api/v1/health"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 200 ] || ! kill -0 "$server" 2>/dev/null; then
      echo "the server $bin did not start:" >&2
      cat "$work/server.log" >&2
      exit 1
    fi
    sleep 0.1 # spaces out the health probes; the answer decides
  done
  # The server's CPU time (user + system, in clock ticks) over the load generator's run, per finding.
  local ticks_before ticks_after summary
  ticks_before=$(awk '{print $14 + $15}' "/proc/$server/stat")
  summary=$("$loadgen" --server "http://$listen" "$@")
  ticks_after=$(awk '{print $14 + $15}' "/proc/$server/stat")
  echo "$summary" | awk -v name="$(basename "$bin")" -v ticks=$((ticks_after - ticks_before)) -v hz="$(getconf CLK_TCK)" '
    /findings=/ { match($0, /findings=[0-9]+/); n = substr($0, RSTART + 9, RLENGTH - 9)
                  printf "%s %s server_cpu_ms_per_finding=%.3f\n", name, $0, ticks * 1000 / hz / n; next }
    { print name, $0 }'
  stop
}

for _ in $(seq "$rounds"); do
  run "$a" "$@"
  run "$b" "$@"
done
