#!/usr/bin/env bash
# The test command: sets up everything the tests need on a fresh Debian machine, then runs them all.
#   - npm packages (pinned by package-lock.json): the MCP reference server, the TypeScript SDK client,
#     playwright-core (tests/node), the MCP conformance suite (tests/conformance) and the adaptivecards
#     parser (tests/ApprovalBot.Bot.Tests)
#   - Debian packages: rabbitmq-server (a throw-away node on a free port), chromium (console page test),
#     docker-compose (checks docker-compose.yml)
#   - dotnet restore, build, test, then bench/run.sh --smoke
# Ends with one line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== npm packages"
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/conformance && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/ApprovalBot.Bot.Tests && npm ci --no-audit --no-fund --loglevel=error)

echo "== rabbitmq"
port=$(scripts/rabbitmq-test.sh start)
echo "rabbitmq listening on 127.0.0.1:$port"
trap 'scripts/rabbitmq-test.sh stop' EXIT

echo "== build"
dotnet build ApprovalBot.sln -c Release -nologo -v q

echo "== test"
log=$(mktemp)
status=0
dotnet test ApprovalBot.sln -c Release --no-build --nologo "$@" 2>&1 | tee "$log" || status=$?
echo "== bench smoke (bench/run.sh --smoke: every benchmark with tiny N, so it cannot rot)"
bench/run.sh --smoke > "$log.bench" 2>&1 || { status=1; echo "bench smoke FAILED:"; }
tail -n 30 "$log.bench"

passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "$passed passed, $failed failed"
exit $status
