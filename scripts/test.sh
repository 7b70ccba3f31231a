#!/usr/bin/env bash
# Installs what the tests need (Debian packages, npm packages) and runs every check and test:
# formatting, clippy, the UI's type check and build, and the whole Rust test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
# Each step names itself and the seconds since the start, so a slow run shows where its time went.
step() { printf '\n==> %s (at %d s)\n' "$*" $(($(date +%s) - started)); }
# A fresh clone gains nothing from incremental compilation, and its files would take gigabytes of disk.
if [[ -n "${CI:-}" ]]; then export CARGO_INCREMENTAL=0; fi

step "system packages"
bash scripts/install-system-deps.sh

step "front end: install, type check, build"
(
  cd ui
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent typecheck
  npm run --silent build
  npm test
)

step "rustfmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "a real S3-compatible server for the object-storage tests (s3s-fs: the S3 protocol over files)"
command -v s3s-fs >/dev/null || [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs" ] ||
  cargo install s3s-fs --version 0.14.1 --locked --features binary --quiet

step "a throwaway PostgreSQL cluster for the PostgreSQL store's tests (Debian's postgresql-15)"
eval "$(bash scripts/postgres.sh start)"
trap 'bash scripts/postgres.sh stop "$TJB_PG_DIR"' EXIT
# The PostgreSQL cases fail rather than skip when the cluster is not there.
export TJB_REQUIRE_PG=1

step "build the binaries the end-to-end tests run"
cargo build --workspace --bins --quiet

step "tests"
log=$(mktemp)
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# The black-box stories again with every server on PostgreSQL (a database of its own per data directory):
# sync under faults, photos (packs and a bucket), review and the whole lifecycle, reports, supervision,
# webhooks, exports, access, backup and restore. The tests that look into the SQLite file itself (its integrity
# check, a store from before photo packs, disk-full on tmpfs) run on the embedded store only.
step "the end-to-end stories on PostgreSQL"
set +e
TJB_TEST_BACKEND=postgres cargo test -p tiejiaoban --no-fail-fast \
  --test sync_e2e --test faults --test field_faults --test photo_store --test object_blobs --test case_engine \
  --test access_table --test supervision --test reports --test campaigns --test coverage --test exports \
  --test open311 --test console_api --test api_errors --test admin_tasks --test two_factor --test sign_in \
  --test webhooks --test backup 2>&1 | tee -a "$log"
pg_status=${PIPESTATUS[0]}
set -e
[ "$pg_status" -eq 0 ] || status=$pg_status
passed=$(grep -Eo '^test result: .* ([0-9]+) passed' "$log" | grep -Eo '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '^test result: .* ([0-9]+) failed' "$log" | grep -Eo '[0-9]+ failed' | awk '{s += $1} END {print s + 0}')
rm -f "$log"
step "console in a real browser (Debian's chromium) against the real server and device"
set +e
(cd ui && npm run --silent test:e2e) 2>&1 | tee "$log.e2e"
e2e_status=${PIPESTATUS[0]}
set -e
e2e_passed=$(grep -Eo '^# pass [0-9]+' "$log.e2e" | awk '{print $3}' | tail -1)
e2e_failed=$(grep -Eo '^# fail [0-9]+' "$log.e2e" | awk '{print $3}' | tail -1)
rm -f "$log.e2e"
# A debug build: it reuses the dependencies built above, where a release build would compile the whole Tauri
# tree again (most of a fresh CI run's time). The photo codecs are optimised in debug builds too (Cargo.toml).
step "phone app: debug build with the front end embedded, driven under Xvfb by tauri-driver"
command -v tauri-driver >/dev/null || cargo install tauri-driver --locked --quiet
cargo build -p tiejiaoban-app --features custom-protocol --quiet
set +e
bash scripts/app-e2e.sh 2>&1 | tee "$log.app"
app_status=${PIPESTATUS[0]}
set -e
app_passed=$(grep -Eo '^# pass [0-9]+' "$log.app" | awk '{print $3}' | tail -1)
app_failed=$(grep -Eo '^# fail [0-9]+' "$log.app" | awk '{print $3}' | tail -1)
rm -f "$log.app"
echo
echo "checks and tests took $(( $(date +%s) - started )) s; the build's target folder holds $(du -sh target | cut -f1)"
echo "app: ${app_passed:-0} passed, ${app_failed:-0} failed"
echo "browser: ${e2e_passed:-0} passed, ${e2e_failed:-0} failed"
echo "rust: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$e2e_status" -eq 0 ] && [ "$app_status" -eq 0 ]
