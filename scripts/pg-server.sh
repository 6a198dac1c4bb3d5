#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for tests and the demo.
#   scripts/pg-server.sh start DIR PORT   -> prints the admin URL on its last line
#   scripts/pg-server.sh stop DIR
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?data directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    port=${3:?port}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    # The server must not inherit our stdout/stderr: a caller capturing them ($(...), a test's
    # execFileSync) would otherwise wait for the server to exit.
    if ! as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300" start </dev/null >"$dir/pg_ctl.out" 2>&1; then
      cat "$dir/pg_ctl.out" "$dir/server.log" >&2 || true
      exit 1
    fi
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$dir" -m fast -w stop </dev/null >/dev/null 2>&1 || true
    ;;
  *) echo "unknown command $cmd" >&2; exit 1 ;;
esac
