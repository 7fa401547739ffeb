#!/bin/sh
# pg_server.sh start|stop|restart DIR [BINDIR]: a PostgreSQL cluster of the tests' own, in DIR.
#   start    initdb in DIR/data (once), then the server on a Unix socket in DIR and on 127.0.0.1
#            at a free port; writes DIR/url (TCP) and DIR/socket-url, and exits when it accepts
#            connections.
#   stop     stops it (fast: open connections are ended) and removes DIR.
#   restart  pg_ctl restart, the same port: what a test of dropped connections does.
# PostgreSQL refuses to run as root: as root (CI, containers) the cluster belongs to nobody.
# The tests' data need no durability: fsync is off, unless FLOWKIT_PG_FSYNC=on (benchmarks).
set -eu
cmd=$1
dir=$2
bindir=${3:-}
if [ -z "$bindir" ]; then
  if command -v initdb >/dev/null 2>&1; then
    bindir=$(dirname "$(command -v initdb)")
  else
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
fi
[ -x "$bindir/initdb" ] || { echo "pg_server.sh: no initdb (Debian: postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

case $cmd in
start)
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown nobody "$dir"
    runuser -u nobody -- test -w "$dir" ||
      { echo "pg_server.sh: user nobody cannot reach $dir (is a parent directory private?)" >&2; exit 1; }
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bindir/initdb" -D "$dir/data" -U flowkit --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  # A server left running there (a test run that was killed) is stopped first.
  if as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  # A free port: the first of a few random ones the server can bind.
  tries=0
  while :; do
    port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000))
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=${FLOWKIT_PG_FSYNC:-off} -c max_connections=300 -c shared_buffers=32MB" \
        start >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    if [ $tries -ge 10 ]; then cat "$dir/server.log" >&2; exit 1; fi
  done
  echo "postgresql://flowkit@127.0.0.1:$port/postgres" >"$dir/url"
  echo "postgresql://flowkit@/postgres?host=$dir&port=$port" >"$dir/socket-url"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
restart)
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null 2>&1
  ;;
*)
  echo "usage: pg_server.sh start|stop|restart DIR [BINDIR]" >&2
  exit 2
  ;;
esac
