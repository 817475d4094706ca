#!/bin/sh
# azd preprovision hook (POSIX): refuses a bad APP_SETTINGS before anything is deployed.
# APP_SETTINGS (azd env set APP_SETTINGS '{"InactiveSweep__Enabled":"true"}') holds the flows' app settings, which
# every `azd provision` writes again (settings changed in the portal are not kept). It must be one JSON object of
# setting name to string value, and may not name a setting the deployment owns or a secret: the one list is
# infra/app-settings-policy.json, which the template checks too. Values are never printed. A wrong value (a CRON
# that does not parse, a threshold out of range) is the app's to refuse: it stops at start-up naming the setting
# (docs/deploy.md, "App settings").
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
policy_file="$here/../app-settings-policy.json"

fail() { printf 'preprovision: %s\n' "$*" >&2; exit 1; }
say() { printf 'preprovision: %s\n' "$*"; }

example="azd env set APP_SETTINGS '{\"InactiveSweep__Enabled\":\"true\",\"Risk__Enabled\":\"false\"}'"
if [ -z "${APP_SETTINGS+set}" ]; then
  say "APP_SETTINGS is not set: the flows run with the deployment's settings and their defaults"
  exit 0
fi
settings=$APP_SETTINGS
# azd reads an unset value as "use the default", but an empty one as JSON, which it is not.
[ -n "$(printf '%s' "$settings" | tr -d ' \t\r\n')" ] ||
  fail "APP_SETTINGS is empty; set it to '{}' for no flow settings, or to a JSON object of setting name to string value, e.g. $example"

command -v jq >/dev/null 2>&1 || fail "jq is required (apt-get install jq, brew install jq)"
[ -f "$policy_file" ] || fail "missing $policy_file"

kind=$(printf '%s' "$settings" | jq -rs 'if length == 1 then "a JSON \(.[0] | type)" else "\(length) JSON values" end' 2>/dev/null) ||
  fail "APP_SETTINGS is not valid JSON; it must be one JSON object of setting name to string value, e.g. $example"
[ "$kind" = "a JSON object" ] ||
  fail "APP_SETTINGS is $kind; it must be one JSON object of setting name to string value, e.g. $example"

# One line per offending key: the key and why, in the words of infra/app/app-settings.bicep.
problems=$(printf '%s' "$settings" | jq -r --slurpfile policy "$policy_file" '
  $policy[0] as $p
  | def owner($name): [$p.owned[] | . as $o | ($o.name | ascii_downcase) as $owned | ($name | ascii_downcase) as $n
      | select(if ($o.prefix // false) then ($n | startswith($owned)) else $n == $owned end)] | first;
  (to_entries | group_by(.key | ascii_downcase)[] | select(length > 1)
    | "\(map(.key) | join(" and ")) name the same setting (names are case-insensitive): keep one"),
  (to_entries[] | .key as $k | owner($k) as $o |
    if $k == "" then "an empty name is not a setting"
    elif ($k | test("^[A-Za-z0-9_.]+$") | not) then
      if ($k | contains(":")) then "\($k) has '"'"':'"'"': write it with __ (App Service on Linux allows letters, digits, _ and . in names)"
      else "\($k) is not a setting name (App Service on Linux allows letters, digits, _ and . in names)" end
    elif any($p.secretNameEndings[]; . as $e | $k | ascii_downcase | endswith($e)) then
      "\($k) names a secret: secrets reach the app only as Key Vault references the deployment writes (docs/runbook.md, \"Rotate secrets without losing notifications\")"
    elif $o != null then
      "\($k) is set by the deployment (\($o.by))\(if $o.instead then "; use azd env set \($o.instead)" else "" end)"
    elif (.value | type) != "string" then
      "\($k) must have a string value (a JSON \(.value | type) was given): write \"true\", \"30\", not true, 30"
    else empty end)')

if [ -n "$problems" ]; then
  printf '%s\n' "$problems" | while IFS= read -r problem; do printf 'preprovision: APP_SETTINGS: %s\n' "$problem" >&2; done
  fail "nothing was deployed: fix APP_SETTINGS (azd env set APP_SETTINGS '{...}') and run azd provision again"
fi

names=$(printf '%s' "$settings" | jq -r 'keys_unsorted | join(", ")')
if [ -z "$names" ]; then say "APP_SETTINGS: no flow settings"; else say "APP_SETTINGS: $names (written beside the deployment's own settings)"; fi
