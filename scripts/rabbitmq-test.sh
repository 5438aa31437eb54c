#!/usr/bin/env bash
# A throw-away RabbitMQ node for the tests, on a free loopback port, with its own data folder.
#   rabbitmq-test.sh start   installs rabbitmq-server (Debian) when absent, starts the node, prints its AMQP port
#   rabbitmq-test.sh stop    stops it
#   rabbitmq-test.sh node    prints the node's name (for rabbitmqctl -n)
#   rabbitmq-test.sh vhost NAME   creates virtual host NAME (new, empty) for user guest: a test of its own
# Idempotent: "start" on a running node prints the port again. APPROVALBOT_RABBITMQ_DIR gives a node
# of its own (its own folder and node name), so runs in several checkouts on one machine do not meet.
set -euo pipefail
state="${APPROVALBOT_RABBITMQ_DIR:-${TMPDIR:-/tmp}/approvalbot-rabbitmq}"
if [ -n "${APPROVALBOT_RABBITMQ_DIR:-}" ]; then
  node="approvalbot-test-$(printf '%s' "$state" | cksum | cut -d' ' -f1)@localhost"
else
  node="approvalbot-test@localhost"
fi
export RABBITMQ_NODENAME="$node" RABBITMQ_MNESIA_BASE="$state/mnesia" RABBITMQ_LOG_BASE="$state/log" \
       RABBITMQ_PID_FILE="$state/rabbit.pid" RABBITMQ_CONFIG_FILE="$state/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$state/enabled_plugins" \
       HOME="$state"

# Debian's /usr/sbin wrappers switch to the rabbitmq user, who cannot write our folder: call the real scripts.
bin=/usr/lib/rabbitmq/bin
ctl() { "$bin/rabbitmqctl" -n "$node" "$@"; }

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

case "${1:-start}" in
  start)
    if [ ! -x "$bin/rabbitmq-server" ]; then
      echo "installing rabbitmq-server from Debian's packages" >&2
      sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server >&2 || {
        sudo_if_needed apt-get update >&2 && sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server >&2; }
    fi
    mkdir -p "$state/mnesia" "$state/log"
    if [ -f "$state/port" ] && ctl status >/dev/null 2>&1; then
      cat "$state/port"; exit 0
    fi
    port=$(free_port); dist=$(free_port)
    echo "[]." > "$state/enabled_plugins"
    cat > "$state/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$port
loopback_users = none
log.console = false
CONF
    export RABBITMQ_DIST_PORT="$dist" ERL_EPMD_ADDRESS=127.0.0.1
    echo "$port" > "$state/port"
    # Debian's package starts no node in a container: start ours in the background and wait for it.
    nohup "$bin/rabbitmq-server" >"$state/server.out" 2>&1 &
    for _ in $(seq 1 90); do
      if ctl await_startup --timeout 2 >/dev/null 2>&1; then cat "$state/port"; exit 0; fi
      sleep 1
    done
    echo "rabbitmq did not start; see $state/log" >&2; exit 1
    ;;
  stop)
    ctl stop >/dev/null 2>&1 || true
    rm -f "$state/port"
    ;;
  node)
    echo "$node"
    ;;
  vhost)
    name="${2:?usage: $0 vhost NAME}"
    ctl delete_vhost "$name" >/dev/null 2>&1 || true
    ctl add_vhost "$name" >/dev/null
    ctl set_permissions -p "$name" guest ".*" ".*" ".*" >/dev/null
    ;;
  *) echo "usage: $0 start|stop|node|vhost NAME" >&2; exit 2;;
esac
