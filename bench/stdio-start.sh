#!/usr/bin/env bash
# Time from process start to a complete first tools/list on the stdio front, as a client that launches
# its servers (the TypeScript SDK's StdioClientTransport, tests/node/mcp-stdio.mjs) sees it:
#   r2r        the executable from `dotnet publish -r <rid> -p:PublishReadyToRun=true` (the README's recommendation)
#   published  the executable from a plain `dotnet publish`
#   dotnet run `dotnet run --project src/ApprovalBot -- stdio` after a build (it still checks the build first)
# Both with the default configuration (the sample upstream). Prints the median of RUNS runs each.
#   bench/stdio-start.sh [RUNS]     default 5
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -f tests/node/node_modules/@modelcontextprotocol/sdk/package.json ] \
  || (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)

echo "== publish and build (Release)"
rid=$(dotnet --info | awk '/ RID:/ {print $2; exit}')
dotnet publish src/ApprovalBot -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o "$work/r2r" -nologo -v q -clp:ErrorsOnly
dotnet publish src/ApprovalBot -c Release -o "$work/approvalbot" -nologo -v q -clp:ErrorsOnly
dotnet build src/ApprovalBot -nologo -v q -clp:ErrorsOnly

measure() { # name command args-json
  local name=$1 command=$2 args=$3 times=()
  for i in $(seq "$runs"); do
    local data="$work/data-$name-$i"
    local spec
    spec=$(printf '{"command":"%s","args":%s,"cwd":"%s","steps":[{"op":"listTools"}]}' \
      "$command" "$(echo "$args" | sed "s|DATA|$data|")" "$root")
    local report
    report=$(cd tests/node && node mcp-stdio.mjs "$spec")
    local tools
    tools=$(echo "$report" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(r.results?.[0]?.tools?.length ?? 0)')
    local ms
    ms=$(echo "$report" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(r.firstListMs ?? -1)')
    [ "$tools" -gt 0 ] || { echo "$name: first tools/list was empty: $report" >&2; exit 1; }
    times+=("$ms")
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-11s first complete tools/list after %5s ms (median of %s: %s)\n' "$name" "$median" "$runs" "${times[*]}"
}

common='"--ApprovalBot:DataDirectory=DATA","--urls=http://127.0.0.1:0"'
measure r2r "$work/r2r/approvalbot" "[\"stdio\",$common]"
measure published "$work/approvalbot/approvalbot" "[\"stdio\",$common]"
measure "dotnet run" dotnet "[\"run\",\"--project\",\"$root/src/ApprovalBot\",\"--\",\"stdio\",$common]"
