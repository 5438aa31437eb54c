#!/usr/bin/env bash
# The benchmark command. Builds Release, starts what it needs (npm peers, a throw-away RabbitMQ and a
# throw-away PostgreSQL unless those of scripts/rabbitmq-test.sh and scripts/postgres-test.sh are already
# up), runs every part, prints the table, writes JSON.
#   bench/run.sh            full run (~8 minutes on 2 cores): results in bench/results/
#   bench/run.sh --smoke    every part with tiny N (well under 2 minutes): results in bench/results/smoke/
# Exit code 0 only when every scenario ran and every call came back right.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

smoke=""
results="$root/bench/results"
if [ "${1:-}" = "--smoke" ]; then
  smoke="--smoke"
  results="$root/bench/results/smoke"
fi
mkdir -p "$results"
started=$(date +%s)

# 10,000 parked calls are 10,000 sockets on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "== npm packages (pinned by package-lock.json)"
[ -f tests/node/node_modules/@modelcontextprotocol/server-everything/package.json ] \
  || (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
[ -f bench/node/node_modules/mcp-proxy/package.json ] && [ -f bench/node/node_modules/@civic/passthrough-mcp-server/package.json ] \
  || (cd bench/node && npm ci --no-audit --no-fund --loglevel=error)

echo "== build (Release)"
# BENCH_ARTIFACTS=/some/dir builds there instead of the projects' bin/obj (to stay out of a parallel build's way).
build_args=(-c Release -nologo -v q -clp:ErrorsOnly)
bench_dll="$root/bench/ApprovalBot.Bench/bin/Release/net10.0/ApprovalBot.Bench.dll"
policy_dll="$root/bench/ApprovalBot.Bench.Policy/bin/Release/net10.0/ApprovalBot.Bench.Policy.dll"
if [ -n "${BENCH_ARTIFACTS:-}" ]; then
  build_args+=(--artifacts-path "$BENCH_ARTIFACTS")
  bench_dll="$BENCH_ARTIFACTS/bin/ApprovalBot.Bench/release/ApprovalBot.Bench.dll"
  policy_dll="$BENCH_ARTIFACTS/bin/ApprovalBot.Bench.Policy/release/ApprovalBot.Bench.Policy.dll"
fi
dotnet build bench/ApprovalBot.Bench/ApprovalBot.Bench.csproj "${build_args[@]}"
dotnet build bench/ApprovalBot.Bench.Policy/ApprovalBot.Bench.Policy.csproj "${build_args[@]}"

echo "== rabbitmq"
# Reuse the node of scripts/rabbitmq-test.sh when it is up (as under scripts/test.sh); else start it and stop it after.
state="${APPROVALBOT_RABBITMQ_DIR:-${TMPDIR:-/tmp}/approvalbot-rabbitmq}"
node=$(scripts/rabbitmq-test.sh node)
ctl() {
  HOME="$state" RABBITMQ_NODENAME="$node" RABBITMQ_MNESIA_BASE="$state/mnesia" RABBITMQ_LOG_BASE="$state/log" \
    /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node" "$@"
}
ours=1
if [ -f "$state/port" ] && (exec 3<>"/dev/tcp/127.0.0.1/$(cat "$state/port")") 2>/dev/null; then ours=0; fi
# Stop on exit only what this script started.
pg_ours=0
cleanup() {
  if [ "$pg_ours" = 1 ]; then scripts/postgres-test.sh stop || true; fi
  if [ "$ours" = 1 ]; then scripts/rabbitmq-test.sh stop || true; fi
}
trap cleanup EXIT
port=$(scripts/rabbitmq-test.sh start)
# Its own virtual host, new for each run: the bench's bot never shares a queue with a test run on the
# same node, and never starts behind messages an earlier (interrupted) run left in its queues.
vhost="approvalbot-bench"
ctl delete_vhost "$vhost" >/dev/null 2>&1 || true
ctl add_vhost "$vhost" >/dev/null
ctl set_permissions -p "$vhost" guest ".*" ".*" ".*" >/dev/null
echo "rabbitmq on 127.0.0.1:$port, virtual host $vhost"

echo "== postgresql"
# The ha pair's shared store. Reuse the cluster of scripts/postgres-test.sh when it is up (as under
# scripts/test.sh); else start it and stop it after. The bench creates a database of its own in it.
pg_state="${APPROVALBOT_POSTGRES_DIR:-${TMPDIR:-/tmp}/approvalbot-postgres}"
pg_ours=1
if [ -f "$pg_state/port" ] && (exec 3<>"/dev/tcp/127.0.0.1/$(cat "$pg_state/port")") 2>/dev/null; then pg_ours=0; fi
pg_port=$(scripts/postgres-test.sh start)
echo "postgresql on 127.0.0.1:$pg_port"

status=0
echo "== policy evaluation (BenchmarkDotNet)"
bdn_log=$(mktemp -t approvalbot-bench-bdn.XXXXXX)
(cd "$root" && dotnet "$policy_dll" $smoke --results "$results" > "$bdn_log" 2>&1) || { status=1; echo "policy benchmark failed; see $bdn_log"; grep -E "^ALLOCATES" "$bdn_log" || true; tail -20 "$bdn_log"; }
# BenchmarkDotNet's own summary table (its full log stays in $bdn_log).
grep -E "^\|" "$bdn_log" | tee "$results/policy-bdn.md" || true

echo "== scenarios: proxy overhead, approval round trip, handed-back approvals, parked calls, /policy status, ha pair"
dotnet "$bench_dll" run $smoke --rabbitmq-port "$port" --rabbitmq-vhost "$vhost" --postgres-port "$pg_port" --results "$results" || status=1

echo "== results ($results)"
dotnet "$bench_dll" report --results "$results" | tee "$results/summary.md"
echo "bench finished in $(( $(date +%s) - started )) s with status $status"
exit $status
