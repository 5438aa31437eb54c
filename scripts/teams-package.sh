#!/usr/bin/env bash
# Builds the Microsoft Teams app package: a zip with manifest.json, color.png and outline.png at
# its root, ready for "Upload a custom app" (Teams) or the Teams admin center.
#
#   scripts/teams-package.sh [output.zip]            (default: artifacts/approvalbot-teams.zip)
#
# The committed manifest holds placeholders. Set these to fill them in the packaged copy
# (manifests/teams/manifest.json itself is never changed):
#   TEAMS_APP_ID       the Teams app id: any GUID of yours, stable across versions
#                      (placeholder 11111111-1111-4111-8111-111111111111)
#   TEAMS_BOT_APP_ID   the Azure Bot's Microsoft App ID = ApprovalBot:Teams:AppId
#                      (placeholder 22222222-2222-4222-8222-222222222222)
#   TEAMS_BOT_DOMAIN   the host name the bot is reachable at, e.g. approvalbot.contoso.com
#                      (placeholder approvalbot.example.com)
#   TEAMS_APP_VERSION  the manifest version (semver), e.g. 1.0.1 — raise it for every upload
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_dir="$root/manifests/teams"
output="${1:-$root/artifacts/approvalbot-teams.zip}"
case "$output" in
  /*) ;;
  *) output="$PWD/$output" ;;
esac

for file in manifest.json color.png outline.png; do
  if [[ ! -f "$source_dir/$file" ]]; then
    echo "teams-package: $source_dir/$file is missing" >&2
    exit 1
  fi
done

if ! command -v python3 >/dev/null 2>&1; then
  echo "teams-package: python3 is required" >&2
  exit 1
fi

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp "$source_dir/color.png" "$source_dir/outline.png" "$staging/"

python3 - "$source_dir/manifest.json" "$staging/manifest.json" <<'PY'
import json, os, re, sys

source, target = sys.argv[1], sys.argv[2]
with open(source, encoding="utf-8") as f:
    manifest = json.load(f)

guid = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
def env_guid(name):
    value = os.environ.get(name, "").strip()
    if value and not guid.match(value):
        sys.exit(f"teams-package: {name} must be a GUID")
    return value

app_id = env_guid("TEAMS_APP_ID")
bot_id = env_guid("TEAMS_BOT_APP_ID")
domain = os.environ.get("TEAMS_BOT_DOMAIN", "").strip()
version = os.environ.get("TEAMS_APP_VERSION", "").strip()
if app_id:
    manifest["id"] = app_id
if bot_id:
    manifest["bots"][0]["botId"] = bot_id
if domain:
    if "/" in domain or ":" in domain:
        sys.exit("teams-package: TEAMS_BOT_DOMAIN is a host name only (no scheme, port or path)")
    manifest["validDomains"] = [domain]
if version:
    manifest["version"] = version

placeholders = []
if manifest["id"] == "11111111-1111-4111-8111-111111111111":
    placeholders.append("TEAMS_APP_ID")
if manifest["bots"][0]["botId"] == "22222222-2222-4222-8222-222222222222":
    placeholders.append("TEAMS_BOT_APP_ID")
if "approvalbot.example.com" in manifest.get("validDomains", []):
    placeholders.append("TEAMS_BOT_DOMAIN")
if placeholders:
    print("teams-package: warning: placeholders left in the manifest; set " + ", ".join(placeholders) +
          " before uploading to a real tenant (see docs/teams.md)", file=sys.stderr)

with open(target, "w", encoding="utf-8") as f:
    json.dump(manifest, f, indent=2, ensure_ascii=False)
    f.write("\n")
PY

mkdir -p "$(dirname "$output")"
rm -f "$output"
if command -v zip >/dev/null 2>&1; then
  (cd "$staging" && zip -q -X "$output" manifest.json color.png outline.png)
else
  python3 - "$staging" "$output" <<'PY'
import sys, zipfile
staging, output = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as z:
    for name in ("manifest.json", "color.png", "outline.png"):
        z.write(f"{staging}/{name}", arcname=name)
PY
fi

echo "teams-package: wrote $output"
