#!/usr/bin/env bash
# Download throughput of an offline base map: a release server on 127.0.0.1 offers a package of SIZE_MB (default
# 200) and the `patrol` command line downloads it whole (HTTP, the phone core's writes, the SHA-256 and MBTiles
# checks, the move into place), ROUNDS times (default 3), each into a fresh home. Prints MB/s per round.
#
#   cargo build --release -p sync-server -p tiejiaoban-device --bins
#   scripts/bench-basemap-download.sh [SIZE_MB] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-200}
rounds=${2:-3}
server=target/release/sync-server
patrol=target/release/patrol
for bin in "$server" "$patrol"; do
  [ -x "$bin" ] || { echo "missing $bin: cargo build --release -p sync-server -p tiejiaoban-device --bins" >&2; exit 2; }
done
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A package of incompressible 32 KB PNG-headed tiles, SIZE_MB in all.
python3 - "$work/district.mbtiles" "$size_mb" <<'PY'
import os, sqlite3, sys
path, size_mb = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
db.executescript("""CREATE TABLE metadata (name TEXT, value TEXT);
CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);
INSERT INTO metadata VALUES ('format', 'png'), ('bounds', '123.39,41.77,123.47,41.82'), ('minzoom', '18'), ('maxzoom', '18');""")
n = size_mb * 32
db.executemany("INSERT INTO tiles VALUES (18, ?, ?, ?)",
               ((218000 + i % 256, 100000 + i // 256, b"\x89PNG\r\n\x1a\n" + os.urandom(32760)) for i in range(n)))
db.commit()
PY
"$server" basemap import --data "$work/data" --name district "$work/district.mbtiles" >/dev/null 2>&1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" serve --data "$work/data" --listen "127.0.0.1:$port" --demo >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.1; done
bytes=$(stat -c %s "$work/district.mbtiles")
echo "package: $((bytes / 1048576)) MB"
for round in $(seq "$rounds"); do
  home="$work/phone-$round"
  "$patrol" --home "$home" register --server "http://127.0.0.1:$port" --username inspector1 --password demo1234 >/dev/null
  start=$(date +%s.%N)
  "$patrol" --home "$home" basemap get district >/dev/null 2>&1
  end=$(date +%s.%N)
  cmp -s "$home/basemaps/district.mbtiles" "$work/district.mbtiles" || { echo "round $round: the package differs" >&2; exit 1; }
  python3 -c "import sys; b, s, e = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); print(f'round {sys.argv[4]}: {b / 1048576 / (e - s):.0f} MB/s ({e - s:.2f} s)')" "$bytes" "$start" "$end" "$round"
done
