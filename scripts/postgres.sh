#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (Debian's postgresql-15, no systemd): `start` initialises one
# in a new temporary directory, starts it on a free port of 127.0.0.1 and prints the lines to `eval`
# (TJB_TEST_DATABASE_URL, TJB_PG_DIR); `stop DIR` stops it and removes it; `halt DIR` stops it at once as a
# crash would and `resume DIR` starts it again on the same port (the database-fault tests). Installs the
# package when missing.
# Runs as root (initdb and the server run as the postgres user) or as any other user (as themselves).
set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin

# Starts the cluster of DIR on its port. fsync off: the tests crash the sync server and, in the fault tests,
# PostgreSQL's process, never the machine. TJB_PG_FSYNC=on keeps PostgreSQL's durable defaults (benchmarks).
launch() {
  local dir=$1 port durable="-c fsync=off -c full_page_writes=off"
  port=$(cat "$dir/port")
  [ "${TJB_PG_FSYNC:-off}" = on ] && durable=""
  "${as[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir $durable -c max_connections=400" \
    start >/dev/null
}

case "${1:-}" in
start)
  if [ ! -x "$PGBIN/initdb" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
  fi
  dir=$(mktemp -d -t tjb-pg.XXXXXX)
  as=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$dir"
    as=(runuser -u postgres --)
  fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "$port" >"$dir/port"
  "${as[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log"
  launch "$dir"
  echo "export TJB_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "export TJB_PG_DIR=$dir"
  ;;
halt)
  dir=${2:?the directory of the cluster (TJB_PG_DIR)}
  as=()
  [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null
  ;;
resume)
  dir=${2:?the directory of the cluster (TJB_PG_DIR)}
  as=()
  [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
  launch "$dir"
  ;;
stop)
  dir=${2:?the directory of the cluster (TJB_PG_DIR)}
  as=()
  [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start | stop DIR | halt DIR | resume DIR" >&2
  exit 2
  ;;
esac
