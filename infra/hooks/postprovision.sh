#!/bin/sh
# azd postprovision hook (POSIX): what Bicep cannot do.
#  1. Grant the Functions app's managed identity the Microsoft Graph application permissions listed in
#     infra/graph-permissions.json (the one list) that its enabled flows need: a permission with a grantedWhen
#     azd environment value is granted only while that value is true, so enabling a flow and running the hook again
#     adds its permissions. Needs a Privileged Role Administrator or Global Administrator.
#  2. Give the Key Vault secrets their first values: a generated Graph clientState and webhook signing secret,
#     and the ServiceNow credential (from SERVICENOW_CLIENT_SECRET / SERVICENOW_PASSWORD, or asked for).
#     Existing secrets are never overwritten; rotation is described in docs/deploy.md.
# azd passes the Bicep outputs (AZURE_*) as environment variables. No secret is ever printed.
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
permissions_file="$here/../graph-permissions.json"

fail() { printf 'postprovision: %s\n' "$*" >&2; exit 1; }
say() { printf 'postprovision: %s\n' "$*"; }

command -v az >/dev/null 2>&1 || fail "the Azure CLI (az) is required: https://aka.ms/azure-cli"
command -v jq >/dev/null 2>&1 || fail "jq is required (apt-get install jq, brew install jq)"
[ -f "$permissions_file" ] || fail "missing $permissions_file"

: "${AZURE_MANAGED_IDENTITY_PRINCIPAL_ID:?run azd provision first: AZURE_MANAGED_IDENTITY_PRINCIPAL_ID is not set}"
: "${AZURE_KEY_VAULT_NAME:?run azd provision first: AZURE_KEY_VAULT_NAME is not set}"
auth_mode=${SERVICENOW_AUTH_MODE:-OAuth}

# ---- 1. Microsoft Graph application permissions ---------------------------------------------------
graph=$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv 2>/dev/null || true)
graph=${graph:-https://graph.microsoft.com/}
graph=${graph%/}
graph_app_id=$(jq -r '.resourceAppId' "$permissions_file")

graph_sp=$(az ad sp show --id "$graph_app_id" -o json) || fail "cannot read the Microsoft Graph service principal; sign in with az login"
graph_sp_id=$(printf '%s' "$graph_sp" | jq -r '.id')
granted=$(az rest --method get \
  --url "$graph/v1.0/servicePrincipals/$AZURE_MANAGED_IDENTITY_PRINCIPAL_ID/appRoleAssignments" \
  --query "value[?resourceId=='$graph_sp_id'].appRoleId" -o tsv) || fail "cannot read the identity's app role assignments"

# Least privilege: only the permissions of the flows this environment runs. An entry is enabled when every azd
# environment value in its grantedWhen has the given value (an unset one counts as its switch's default); a permission
# listed for two flows is needed when either entry is.
enabled_filter='.switches as $s | [.permissions[] | {name, enabled: ((.grantedWhen // {}) | to_entries | all(. as $e |
  (($ENV[$e.key] // $s[$e.key].default // "") | ascii_downcase) == ($e.value | ascii_downcase)))}]
  | group_by(.name)[] | [.[0].name, (map(.enabled) | any)] | @tsv'
needed_by_enabled_flows() {
  jq -r "$enabled_filter" "$permissions_file" |
    while IFS="$(printf '\t')" read -r name enabled; do
      if [ "$enabled" = true ]; then printf '%s\n' "$name"; else say "Graph $name: not needed by the enabled flows" >&2; fi
    done
}
needed=$(needed_by_enabled_flows)

for permission in $needed; do
  role_id=$(printf '%s' "$graph_sp" | jq -r --arg p "$permission" \
    '.appRoles[] | select(.value == $p and (.allowedMemberTypes | index("Application"))) | .id')
  [ -n "$role_id" ] || fail "Microsoft Graph has no application permission named $permission"
  if printf '%s\n' "$granted" | grep -qx "$role_id"; then
    say "Graph $permission: already granted"
    continue
  fi
  body=$(jq -cn --arg p "$AZURE_MANAGED_IDENTITY_PRINCIPAL_ID" --arg r "$graph_sp_id" --arg a "$role_id" \
    '{principalId: $p, resourceId: $r, appRoleId: $a}')
  if ! error=$(az rest --method post \
      --url "$graph/v1.0/servicePrincipals/$AZURE_MANAGED_IDENTITY_PRINCIPAL_ID/appRoleAssignments" \
      --headers "Content-Type=application/json" --body "$body" -o none 2>&1); then
    case "$error" in
      *Authorization_RequestDenied*|*Forbidden*|*403*|*"Insufficient privileges"*)
        fail "you may not grant Microsoft Graph application permissions ($permission). A Privileged Role Administrator or Global Administrator must run 'azd hooks run postprovision' for this environment (or grant the permissions in infra/graph-permissions.json to the managed identity $AZURE_MANAGED_IDENTITY_PRINCIPAL_ID), then restart the function app." ;;
      *) fail "granting $permission failed: $error" ;;
    esac
  fi
  say "Graph $permission: granted"
done

# ---- 2. Key Vault secrets (first values only) -------------------------------------------------------
secret_exists() {
  az keyvault secret show --vault-name "$AZURE_KEY_VAULT_NAME" --name "$1" --query id -o tsv >/dev/null 2>&1
}

# The value goes through a private temporary file, never through the command line or the log.
set_secret() {
  name=$1 value=$2
  file=$(umask 077 && mktemp)
  printf '%s' "$value" > "$file"
  attempt=1
  # Role assignments made by the deployment can take a few minutes to reach Key Vault.
  until az keyvault secret set --vault-name "$AZURE_KEY_VAULT_NAME" --name "$name" --file "$file" --encoding utf-8 -o none 2>/dev/null; do
    if [ "$attempt" -ge "${KEYVAULT_RETRY_ATTEMPTS:-12}" ]; then
      rm -f "$file"
      fail "cannot write Key Vault secret $name; you need the Key Vault Secrets Officer role on $AZURE_KEY_VAULT_NAME (azd grants it to AZURE_PRINCIPAL_ID)"
    fi
    attempt=$((attempt + 1))
    sleep "${KEYVAULT_RETRY_SECONDS:-10}"
  done
  rm -f "$file"
  say "Key Vault secret $name: set"
}

random_secret() { openssl rand -hex 32; }

ensure_generated() {
  if secret_exists "$1"; then say "Key Vault secret $1: already set"; else set_secret "$1" "$(random_secret)"; fi
}

ensure_given() { # name, environment variable, what it is
  name=$1 variable=$2 what=$3
  if secret_exists "$name"; then say "Key Vault secret $name: already set"; return; fi
  value=$(printenv "$variable" || true)
  if [ -z "$value" ] && [ -t 0 ]; then
    printf 'postprovision: %s (input hidden, empty to skip): ' "$what"
    stty -echo; IFS= read -r value || true; stty echo; printf '\n'
  fi
  if [ -z "$value" ]; then
    say "WARNING: Key Vault secret $name is not set; the app will not start until it is:"
    say "  az keyvault secret set --vault-name $AZURE_KEY_VAULT_NAME --name $name --file <file holding the $what>"
    return
  fi
  set_secret "$name" "$value"
}

ensure_generated graph-client-state
ensure_generated servicenow-webhook-signing-secret
case "$auth_mode" in
  OAuth) ensure_given servicenow-client-secret SERVICENOW_CLIENT_SECRET "ServiceNow OAuth client secret" ;;
  Basic) ensure_given servicenow-password SERVICENOW_PASSWORD "ServiceNow integration user's password" ;;
  *) fail "SERVICENOW_AUTH_MODE must be OAuth or Basic, not $auth_mode" ;;
esac

say "done. ServiceNow signs its webhook calls with Key Vault secret servicenow-webhook-signing-secret (see docs/deploy.md)."
