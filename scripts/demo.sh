#!/usr/bin/env bash
# Runs Tiejiaoban on this machine: the sync server on embedded SQLite with demo data and the web console,
# three simulated inspectors' phones reporting and syncing, and the phone app when a display is there.
# Ctrl-C stops everything. Settings: PORT (8080), DATA (./data), DEVICES (3), INTERVAL seconds (20).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8080}
DATA=${DATA:-./data}
DEVICES=${DEVICES:-3}
INTERVAL=${INTERVAL:-20}
URL="http://127.0.0.1:$PORT"
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

echo "==> system packages"
bash scripts/install-system-deps.sh

echo "==> front end (phone app and console)"
(
  cd ui
  [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
)

echo "==> server and device command line"
cargo build --quiet -p sync-server -p tiejiaoban-device --bins

mkdir -p "$DATA"
./target/debug/sync-server serve --data "$DATA/server" --listen "127.0.0.1:$PORT" --demo --console ui/dist/console &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "$URL/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$URL/api/v1/health" >/dev/null || { echo "the server did not start"; exit 1; }

# Photos for the simulated reports: the shared fixtures when present, else the app icon.
photos=()
for f in ../shared/fixtures/photos/orientation-*.jpg ../shared/fixtures/photos/45-gps_ifd.jpg; do
  [ -f "$f" ] && photos+=("$f")
done
[ ${#photos[@]} -gt 0 ] || photos=(src-tauri/icons/icon.png)

# The day's reports of other channels, taken by the dispatcher at the centre (受理): a 12345 call sent for 核实
# to the inspector of its grid, a leader's instruction placed by the road its address names, a camera's filed
# at once. Fixed ids: a restart sends them again and the server answers the same reports (idempotent by id).
token=$(curl -fsS -H 'Content-Type: application/json' -d '{"username":"dispatcher1","password":"demo1234"}' \
  "$URL/api/v1/sessions" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
demo_report() {
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$1" \
    "$URL/api/v1/reports" || echo "(a demo report was refused: $1)"
}
demo_report '{"id":"01939a00-0000-7000-8000-000000000001","channel":"hotline","external_ref":"12345-DEMO-0001",
  "category":"C0101","description":"市民来电: 正阳街东侧人行道井盖缺失","location":{"lat":41.7940,"lon":123.4300},
  "contact":{"name":"李女士","phone":"139 1234 5678"}}'
demo_report '{"id":"01939a00-0000-7000-8000-000000000002","channel":"leader","description":"领导交办: 查看中街路占道经营情况",
  "address":"沈河区中街路 88号门前"}'
demo_report '{"id":"01939a00-0000-7000-8000-000000000003","channel":"camera","external_ref":"CAM-0417","category":"E0102",
  "description":"视频巡查: 朝阳街垃圾暴露","location":{"lat":41.7990,"lon":123.4350},"verify":false}'

categories=(E0102 E0104 E0501 E0512 C0305 E0201 C0102 E0505 C0118 E0507)
simulate() {
  local user=$1 home=$2 n=0
  ./target/debug/patrol --home "$home" register --server "$URL" --username "$user" --password demo1234 \
    --device-name "模拟手机-$user" >/dev/null
  while true; do
    n=$((n + 1))
    local cat=${categories[$((RANDOM % ${#categories[@]}))]}
    local lat lon
    lat=$(printf '41.79%02d%02d' $((RANDOM % 100)) $((RANDOM % 100)))
    lon=$(printf '123.43%02d%02d' $((RANDOM % 100)) $((RANDOM % 100)))
    ./target/debug/patrol --home "$home" report --category "$cat" --lat "$lat" --lon "$lon" --accuracy 6 \
      --description "模拟上报 #$n ($user)" --photo "${photos[$((RANDOM % ${#photos[@]}))]}" >/dev/null 2>&1 || true
    ./target/debug/patrol --home "$home" sync >/dev/null 2>&1 || true
    sleep "$INTERVAL"
  done
}
users=(inspector1 inspector2 inspector3)
for i in $(seq 0 $((DEVICES - 1))); do
  user=${users[$((i % ${#users[@]}))]}
  simulate "$user" "$DATA/phone-$i" &
  pids+=($!)
done

if [ -n "${DISPLAY:-}" ]; then
  echo "==> phone app (display $DISPLAY)"
  cargo build --quiet -p tiejiaoban-app --features custom-protocol
  TIEJIAOBAN_HOME="$DATA/app-phone" ./target/debug/tiejiaoban-app &
  pids+=($!)
else
  echo "(no display: the phone app is not started; see README for running it under Xvfb)"
fi

cat <<INFO

  Tiejiaoban is running.
    console:  $URL/console/        (users: chief1, dispatcher1, dept-hw, admin, ...; password demo1234)
    API:      $URL/api/v1/health
    devices:  $DEVICES simulated inspectors report every ${INTERVAL}s (homes under $DATA/phone-*)
  Ctrl-C stops everything.

INFO
wait
