#!/usr/bin/env bash
# End-to-end test of the phone app's REAL binary: starts a virtual display (Xvfb) and tauri-driver (which
# runs WebKitWebDriver, which runs the app), then tests/app-e2e/app.test.mjs against the real sync server.
# Both are stopped, and the temporary store removed, however the run ends. Every run uses a fresh display,
# fresh ports and a fresh app store, so it can be run again (or twice at once).
#
# It does not build anything. Build first:
#   cargo build --bins                                                     # sync-server
#   (cd ui && npm ci && npm run build:app)                                 # the front end to embed
#   cargo build -p tiejiaoban-app --features custom-protocol               # the app with it embedded
#   cargo install tauri-driver --locked                                    # once
# and have Debian's xvfb and webkit2gtk-driver installed (scripts/install-system-deps.sh).
#
# Environment: TIEJIAOBAN_APP (default target/debug/tiejiaoban-app; a release build works the same), SYNC_SERVER_BIN (default
# target/debug/sync-server), TAURI_DRIVER_BIN (default tauri-driver on PATH, or ~/.cargo/bin/tauri-driver),
# APP_SCREENSHOT_DIR (default tests/app-e2e/screenshots; also gets the server's and tauri-driver's logs).
# Exit status: the test's (0 when every step passed); 2 when something it needs is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

app=$(realpath -m "${TIEJIAOBAN_APP:-target/debug/tiejiaoban-app}")
server=$(realpath -m "${SYNC_SERVER_BIN:-target/debug/sync-server}")
driver=${TAURI_DRIVER_BIN:-$(command -v tauri-driver || echo "$HOME/.cargo/bin/tauri-driver")}
shots=$(realpath -m "${APP_SCREENSHOT_DIR:-tests/app-e2e/screenshots}")

missing=0
need() { # what, file, how to get it
  if [ ! -x "$2" ]; then
    printf 'app-e2e: missing %s: %s\n  %s\n' "$1" "$2" "$3" >&2
    missing=1
  fi
}
need "the app binary" "$app" "build it with: cargo build -p tiejiaoban-app --features custom-protocol (after npm run build:app in ui/)"
need "the sync server" "$server" "build it with: cargo build --bins"
need "tauri-driver" "$driver" "install it with: cargo install tauri-driver --locked"
for tool in Xvfb WebKitWebDriver node curl; do
  if ! command -v "$tool" >/dev/null; then
    printf 'app-e2e: missing %s on PATH (Debian: xvfb, webkit2gtk-driver, nodejs, curl)\n' "$tool" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ] || exit 2

work=$(mktemp -d "${TMPDIR:-/tmp}/tjb-app-e2e.XXXXXX")
xvfb_pid=''
driver_pid=''
test_pid=''

# Sends TERM to a process group, waits up to 10 s for it to go, then KILLs what is left.
end_group() {
  kill -TERM -- "-$1" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 -- "-$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Interrupted: the test (it stops its server and the app on TERM) first.
  if [ -n "$test_pid" ]; then end_group "$test_pid"; fi
  # tauri-driver leads its own process group: WebKitWebDriver and the app go with it.
  if [ -n "$driver_pid" ]; then end_group "$driver_pid"; fi
  if [ -n "$xvfb_pid" ]; then
    kill -TERM "$xvfb_pid" 2>/dev/null || true
    wait "$xvfb_pid" 2>/dev/null || true
  fi
  if [ -f "$work/tauri-driver.log" ]; then
    mkdir -p "$shots" && cp "$work/tauri-driver.log" "$shots/tauri-driver.log" || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Polls a condition (a command) until it holds, for at most $1 seconds.
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "app-e2e: timed out after ${seconds}s waiting for $what" >&2
      return 1
    fi
    sleep 0.2
  done
}

# A virtual display on the first free number (Xvfb writes it to the file descriptor given).
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
wait_until 30 "Xvfb to start" test -s "$work/display" || { cat "$work/xvfb.log" >&2; exit 1; }
display=":$(tr -dc '0-9' <"$work/display")"

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
port=$(free_port)
native_port=$(free_port)
while [ "$native_port" = "$port" ]; do native_port=$(free_port); done

# What the app needs; tauri-driver hands its environment on to WebKitWebDriver, which hands it to the app.
export DISPLAY=$display
export WEBKIT_DISABLE_COMPOSITING_MODE=1
export NO_AT_BRIDGE=1
export TIEJIAOBAN_HOME=$work/home
export TIEJIAOBAN_SIM_LOCATION=${TIEJIAOBAN_SIM_LOCATION:-41.7968,123.4328,6}

# setsid: tauri-driver leads a new process group, so cleanup ends everything it started.
setsid "$driver" --port "$port" --native-port "$native_port" >"$work/tauri-driver.log" 2>&1 &
driver_pid=$!
driver_ready() {
  kill -0 "$driver_pid" 2>/dev/null || { cat "$work/tauri-driver.log" >&2; exit 1; }
  curl -fsS "http://127.0.0.1:$port/status" >/dev/null 2>&1
}
wait_until 30 "tauri-driver on port $port" driver_ready

export TAURI_DRIVER_URL=http://127.0.0.1:$port
export TIEJIAOBAN_APP=$app SYNC_SERVER_BIN=$server APP_SCREENSHOT_DIR=$shots
echo "app-e2e: display $DISPLAY, tauri-driver $TAURI_DRIVER_URL, app $app, store $TIEJIAOBAN_HOME"

# In the background and in its own process group, so that a signal to this script is handled at once
# (bash runs traps only between commands) and reaches the test and the server it started.
setsid node --test --test-reporter=tap "$root/tests/app-e2e/app.test.mjs" &
test_pid=$!
set +e
wait "$test_pid"
status=$?
set -e
test_pid=''
exit "$status"
