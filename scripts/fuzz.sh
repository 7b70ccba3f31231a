#!/usr/bin/env bash
# The long fuzzing run: every property of the crates' tests/fuzz.rs (sync requests, findings, dictionaries,
# GeoJSON grids, MBTiles packages, the photo decoders) and of the server's own (cursors, upload headers,
# deadline arithmetic) with many more cases than CI's. A failure is shrunk to a small input and kept in the
# crate's regression file (tests/fuzz.proptest-regressions, or proptest-regressions/ beside src/), which every
# later run (CI's too) replays first; commit that file with the fix.
#
#   scripts/fuzz.sh            # 20,000 cases per property (photo decoding: 500)
#   CASES=200000 scripts/fuzz.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cases=${CASES:-20000}
start=$(date +%s)
PROPTEST_CASES=$cases cargo test -p tiejiaoban-protocol -p tiejiaoban-places -p tiejiaoban-mbtiles --test fuzz
PROPTEST_CASES=$cases cargo test -p sync-server --lib -- cursor http::blobs::fuzz calendar
PROPTEST_CASES=$(( cases / 40 )) cargo test -p tiejiaoban-device --test fuzz
echo "fuzzing: $(( $(date +%s) - start )) s, $cases cases per property"
