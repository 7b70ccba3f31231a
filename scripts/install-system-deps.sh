#!/usr/bin/env bash
# Installs the Debian packages that building and testing Tiejiaoban needs. Idempotent: packages that are
# already present are skipped, and apt is only consulted when something is missing.
set -euo pipefail

packages=(
  # Tauri 2 on Linux
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev build-essential pkg-config
  # libjpeg-turbo's x86 SIMD, assembled when the photo pipeline's decoder (mozjpeg-sys) is built
  nasm
  # end-to-end tests of the real app and console
  xvfb webkit2gtk-driver fonts-noto-cjk chromium
  # photo pipeline comparison benchmark
  libjpeg-turbo-progs
  # the durability test traces the server's writes and flushes (tests/durability_trace.rs)
  strace
  # a phone whose clock is hours off (tests/clock.rs runs the device command line under libfaketime)
  faketime
  # the PostgreSQL store's tests run against a throwaway cluster (scripts/postgres.sh)
  postgresql-15
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: done"
