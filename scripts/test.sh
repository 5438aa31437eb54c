#!/usr/bin/env bash
# The test command: sets up everything the tests need on a fresh Debian machine, then runs them all.
#   - npm packages (pinned by package-lock.json): the MCP reference server, the TypeScript SDK client,
#     playwright-core (tests/node), the MCP conformance suite (tests/conformance) and the adaptivecards
#     parser (tests/ApprovalBot.Bot.Tests)
#   - Debian packages: rabbitmq-server (a throw-away node on a free port), postgresql (a throw-away
#     cluster on a free port, for the shared store), chromium (console page test),
#     docker-compose (checks docker-compose.yml)
#   - dotnet restore, build, test, then bench/run.sh --smoke
# Ends with one line "N passed, N failed", whatever happens before it (CI reads that line):
#   - counted from each test project's TRX results file, not from the console summary, so a test host
#     that crashes cannot lose its tests from the count;
#   - a test project that did not build, did not run or whose run was aborted counts as one failure;
#   - the bench smoke counts as one test; a set-up step that fails counts as one failure.
# The exit code is 0 only when nothing failed.
set -euo pipefail
cd "$(dirname "$0")/.."

projects=(tests/*/*.Tests.csproj)
trx_name="approvalbot-test.trx"
bench_outcome="not run"

# Always the last thing printed, also when a step above ends the script early.
summarize() {
  local rc=$1 passed=0 failed=0 project dir trx counts p f outcome
  set +e
  echo "== results"
  for project in "${projects[@]}"; do
    dir=$(dirname "$project")
    trx="$dir/TestResults/$trx_name"
    if [ ! -s "$trx" ]; then
      echo "$(basename "$dir"): no results (not built, or its test host never reported): counted as 1 failed"
      failed=$((failed + 1))
      continue
    fi
    # passed failed outcome: from <Counters/> and <ResultSummary outcome=.../>.
    counts=$(python3 - "$trx" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception as e:
    print("0 0 unreadable"); sys.exit(0)
ns = {"t": root.tag[1:root.tag.index("}")]} if root.tag.startswith("{") else {}
q = (lambda n: "t:" + n) if ns else (lambda n: n)
summary = root.find(q("ResultSummary"), ns)
counters = summary.find(q("Counters"), ns) if summary is not None else None
if counters is None:
    print("0 0 unreadable"); sys.exit(0)
get = lambda k: int(counters.get(k, "0") or 0)
failed = get("failed") + get("error") + get("timeout") + get("aborted") + get("disconnected")
print(get("passed"), failed, summary.get("outcome", "unknown"))
PY
)
    read -r p f outcome <<<"$counts"
    p=${p:-0} f=${f:-0} outcome=${outcome:-unreadable}
    echo "$(basename "$dir"): $p passed, $f failed ($outcome)"
    passed=$((passed + p))
    failed=$((failed + f))
    # A run that did not complete (a crashed test host, a run aborted) fails even when no single test did.
    if [ "$f" = 0 ] && [ "$outcome" != "Completed" ] && [ "$outcome" != "Passed" ] && [ "$outcome" != "Warning" ]; then
      echo "$(basename "$dir"): run $outcome: counted as 1 failed"
      failed=$((failed + 1))
    fi
  done
  case "$bench_outcome" in
    passed) passed=$((passed + 1)); echo "bench smoke: passed" ;;
    *) failed=$((failed + 1)); echo "bench smoke: $bench_outcome: counted as 1 failed" ;;
  esac
  if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
    failed=1
  fi
  echo "$passed passed, $failed failed"
  if [ "$failed" != 0 ]; then exit 1; fi
  exit 0
}
trap 'summarize $?' EXIT

for project in "${projects[@]}"; do rm -f "$(dirname "$project")/TestResults/$trx_name"; done

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
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
trap 'rc=$?; scripts/rabbitmq-test.sh stop; summarize $rc' EXIT

echo "== postgresql"
pg_port=$(scripts/postgres-test.sh start)
echo "postgresql listening on 127.0.0.1:$pg_port"
trap 'rc=$?; scripts/postgres-test.sh stop; scripts/rabbitmq-test.sh stop; summarize $rc' EXIT

echo "== build"
# A project that does not build has no results file: it is counted as failed, the others still run.
dotnet build ApprovalBot.sln -c Release -nologo -v q || echo "build FAILED"

echo "== test"
# Each project writes its own results file (tests/<project>/TestResults/$trx_name).
dotnet test ApprovalBot.sln -c Release --no-build --nologo --logger "trx;LogFileName=$trx_name" "$@" \
  || echo "dotnet test exited with $?"

echo "== bench smoke (bench/run.sh --smoke: every benchmark with tiny N, so it cannot rot)"
bench_log=$(mktemp)
if bench/run.sh --smoke > "$bench_log" 2>&1; then bench_outcome=passed; else
  bench_outcome=failed
  # The table's tail rarely says why: the lines that do, wherever they are in the log.
  echo "bench smoke FAILED; its failure lines:"
  grep -n -i -E "failed|ALLOCATES|unhandled|exception|error[: ]" "$bench_log" | grep -v -E "^[0-9]+:\s+(0 Error|Error +:)" | head -40 || true
fi
tail -n 30 "$bench_log"
