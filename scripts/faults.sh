#!/usr/bin/env bash
# The long fault runs of RELIABILITY.md: the seeded fault tests of tests/faults.rs at their full counts (CI
# runs a few trials of each). Prints one table row per fault; the figures of every test are kept as JSON
# lines in target/faults/report.jsonl. Takes about 15 minutes on 2 cores.
#
#   scripts/faults.sh                 # the counts of RELIABILITY.md, seed 2026
#   FAULT_SEED=7 scripts/faults.sh    # the same with other moments and offsets
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p target/faults
report=$root/target/faults/report.jsonl
: > "$report"
export FAULT_REPORT=$report
export FAULT_SEED=${FAULT_SEED:-2026}
export FAULT_TRIALS_SERVER_KILL=${FAULT_TRIALS_SERVER_KILL:-50}
export FAULT_TRIALS_CUT=${FAULT_TRIALS_CUT:-120}
export FAULT_TRIALS_STORM=${FAULT_TRIALS_STORM:-20}
export FAULT_TRIALS_DEVICE_KILL=${FAULT_TRIALS_DEVICE_KILL:-60}
start=$(date +%s)
# One test at a time: the server-kill run's 20 phones need both cores.
cargo test -p tiejiaoban --test faults -- --test-threads=1
echo "fault runs: $(( $(date +%s) - start )) s, seed $FAULT_SEED"
python3 - "$report" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(" | ".join(f"{k}={v}" for k, v in r.items()))
PY
