#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests, on a free loopback port, with its own data folder.
#   postgres-test.sh start   installs postgresql (Debian) when absent, creates and starts the cluster, prints its port
#   postgres-test.sh stop    stops it and removes its folder
# Idempotent: "start" on a running cluster prints the port again. Superuser "approvalbot", password
# "approvalbot", trust on loopback only; each test creates its own database in it.
# APPROVALBOT_POSTGRES_DIR gives a cluster of its own, so runs in several checkouts on one machine do not meet.
set -euo pipefail
state="${APPROVALBOT_POSTGRES_DIR:-${TMPDIR:-/tmp}/approvalbot-postgres}"

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
# PostgreSQL refuses to run as root: as root, the cluster belongs to Debian's postgres user.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
  start)
    if [ -z "$(bindir)" ]; then
      echo "installing postgresql from Debian's packages" >&2
      sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2 || {
        sudo_if_needed apt-get update >&2 && sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2; }
    fi
    bin=$(bindir)
    if [ -f "$state/port" ] && as_owner "$bin/pg_isready" -q -h 127.0.0.1 -p "$(cat "$state/port")"; then
      cat "$state/port"; exit 0
    fi
    rm -rf "$state"; mkdir -p "$state"
    if [ "$(id -u)" = 0 ]; then chown postgres "$state"; fi
    port=$(free_port)
    as_owner "$bin/initdb" -D "$state/data" -U approvalbot --auth=trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.out" 2>&1 \
      || { cat "$state/initdb.out" >&2; exit 1; }
    # A test cluster: no fsync (throw-away data), enough connections for several gateways and bots.
    as_owner "$bin/pg_ctl" -D "$state/data" -l "$state/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $state -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null \
      || { cat "$state/server.log" >&2; exit 1; }
    echo "$port" > "$state/port"
    cat "$state/port"
    ;;
  stop)
    bin=$(bindir)
    if [ -n "$bin" ] && [ -d "$state/data" ]; then as_owner "$bin/pg_ctl" -D "$state/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$state"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2;;
esac
