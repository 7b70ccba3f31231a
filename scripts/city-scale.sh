#!/usr/bin/env bash
# The city-scale run of performance.md: 1,000 simulated devices, 20 findings and 40 photos each, all syncing
# within 10 minutes (spread evenly over the window). On the embedded store with one server, or on PostgreSQL
# (durable settings) and a bucket (s3s-fs) with two servers taking the devices in turn. It counts what the
# store holds afterwards (every finding once, every photo once), and samples each server's memory every 5 s.
#
#   cargo build --release -p sync-server -p loadgen
#   scripts/city-scale.sh sqlite|postgres [DEVICES] [WINDOW_SECONDS] [PHOTO_BYTES]
#
# Defaults: 1,000 devices, 600 s, 120,000-byte photos (a phone photo after the app's compression is 100–300 KB;
# 40,000 of them are 4.8 GB, which the data directory or the bucket must have room for). Not part of CI.
set -euo pipefail

store=${1:?usage: $0 sqlite|postgres [DEVICES] [WINDOW_SECONDS] [PHOTO_BYTES]}
devices=${2:-1000}
window=${3:-600}
photo=${4:-120000}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release/sync-server
loadgen=$root/target/release/loadgen
work=$(mktemp -d "${TMPDIR:-/tmp}/tjb-city.XXXXXX")
pids=()
pg_dir=

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$pg_dir" ] && bash "$root/scripts/postgres.sh" stop "$pg_dir"
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts a server on a free port with the given arguments; sets `url` once it listens.
serve() {
  local name=$1 port
  shift
  port=$(free_port)
  "$bin" serve --data "$work/$name" --listen "127.0.0.1:$port" --demo --timezone +08:00 "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 300); do
    grep -q "listening on" "$work/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "listening on" "$work/$name.out" || { cat "$work/$name.err" >&2; exit 1; }
  url="http://127.0.0.1:$port"
}

case "$store" in
sqlite)
  serve a
  urls=$url
  count() { sqlite3 "$work/a/server.sqlite" "$1"; }
  store_bytes() { cat "$work"/a/server.sqlite* | wc -c; }
  ;;
postgres)
  eval "$(TJB_PG_FSYNC=on bash "$root/scripts/postgres.sh" start)"
  pg_dir=$TJB_PG_DIR
  db="${TJB_TEST_DATABASE_URL%/*}/city"
  psql "$TJB_TEST_DATABASE_URL" -qc "CREATE DATABASE city"
  s3port=$(free_port)
  mkdir -p "$work/s3/photos"
  "${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs" --host 127.0.0.1 --port "$s3port" --access-key city \
    --secret-key city-secret "$work/s3" >/dev/null 2>&1 &
  pids+=($!)
  export AWS_ENDPOINT_URL=http://127.0.0.1:$s3port AWS_ACCESS_KEY_ID=city AWS_SECRET_ACCESS_KEY=city-secret \
    AWS_REGION=us-east-1 AWS_ALLOW_HTTP=true
  # The servers refuse to start while the bucket does not answer: wait until it listens.
  for _ in $(seq 100); do
    (echo >"/dev/tcp/127.0.0.1/$s3port") 2>/dev/null && break
    sleep 0.1
  done
  serve a --database "$db" --blobs s3://photos/city
  urls=$url
  serve b --database "$db" --blobs s3://photos/city
  urls="$urls,$url"
  count() { psql "$db" -tAqc "$1"; }
  store_bytes() { count "SELECT pg_database_size(current_database())"; }
  ;;
*)
  echo "usage: $0 sqlite|postgres [DEVICES] [WINDOW_SECONDS] [PHOTO_BYTES]" >&2
  exit 2
  ;;
esac

# Each server's resident memory every 5 s (KiB), while the run lasts.
(
  while true; do
    for p in "${pids[@]}"; do
      comm=$(cat "/proc/$p/comm" 2>/dev/null || true)
      [ "$comm" = "sync-server" ] && echo "$(date +%s) $p $(awk '/VmRSS/ {print $2}' "/proc/$p/status")"
    done
    sleep 5
  done
) >"$work/rss" &
sampler=$!

echo "store=$store servers=$urls devices=$devices window=${window}s photo_bytes=$photo"
"$loadgen" --server "$urls" --mode city --devices "$devices" --findings $((devices * 20)) \
  --photo-bytes "$photo" --window-secs "$window"
kill "$sampler"

findings=$(count "SELECT COUNT(*) FROM findings")
distinct=$(count "SELECT COUNT(DISTINCT id) FROM findings")
photos=$(count "SELECT COUNT(*) FROM blobs")
echo "held: findings=$findings distinct=$distinct photos=$photos (sent: $((devices * 20)) findings, $((devices * 40)) photos)"
# The database's size beside the servers' memory: the embedded store's writer keeps pages in a cache of up to
# 128 MiB, so its memory grows with the database until that cap.
echo "database: $(($(store_bytes) / 1048576)) MiB (without the photos)"
awk '{ if (!($2 in first)) { first[$2] = $3; t0[$2] = $1 } if ($3 > max[$2]) max[$2] = $3; last[$2] = $3
       m = int(($1 - t0[$2]) / 60); if (!(($2, m) in seen)) { seen[$2, m] = 1; series[$2] = series[$2] " " int($3 / 1024) } }
     END { for (p in first) printf "memory (KiB) of server %s: first %d, max %d, last %d; MiB each minute:%s\n", p, first[p], max[p], last[p], series[p] }' \
  "$work/rss"
[ "$findings" -eq $((devices * 20)) ] && [ "$distinct" -eq "$findings" ] && [ "$photos" -eq $((devices * 40)) ]
