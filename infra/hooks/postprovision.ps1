#!/usr/bin/env pwsh
# azd postprovision hook (PowerShell): the same steps as postprovision.sh.
#  1. Grant the managed identity the Microsoft Graph application permissions in infra/graph-permissions.json that its
#     enabled flows need (a permission with grantedWhen only while that azd environment value is true).
#  2. Give the Key Vault secrets their first values; existing secrets are never overwritten.
# azd passes the Bicep outputs (AZURE_*) as environment variables. No secret is ever printed.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Fail([string] $message) { Write-Error "postprovision: $message"; exit 1 }
function Say([string] $message) { Write-Host "postprovision: $message" }

if (-not (Get-Command az -ErrorAction SilentlyContinue)) { Fail 'the Azure CLI (az) is required: https://aka.ms/azure-cli' }
$permissionsFile = Join-Path $PSScriptRoot '..' 'graph-permissions.json'
if (-not (Test-Path $permissionsFile)) { Fail "missing $permissionsFile" }
$identity = $env:AZURE_MANAGED_IDENTITY_PRINCIPAL_ID
$vault = $env:AZURE_KEY_VAULT_NAME
if (-not $identity -or -not $vault) { Fail 'run azd provision first: AZURE_MANAGED_IDENTITY_PRINCIPAL_ID and AZURE_KEY_VAULT_NAME are not set' }
$authMode = if ($env:SERVICENOW_AUTH_MODE) { $env:SERVICENOW_AUTH_MODE } else { 'OAuth' }

# ---- 1. Microsoft Graph application permissions ----
$list = Get-Content $permissionsFile -Raw | ConvertFrom-Json
$graph = (az cloud show --query endpoints.microsoftGraphResourceId -o tsv 2>$null)
if (-not $graph) { $graph = 'https://graph.microsoft.com/' }
$graph = $graph.TrimEnd('/')

$graphSp = az ad sp show --id $list.resourceAppId -o json | ConvertFrom-Json
if ($LASTEXITCODE -ne 0) { Fail 'cannot read the Microsoft Graph service principal; sign in with az login' }
$granted = @(az rest --method get --url "$graph/v1.0/servicePrincipals/$identity/appRoleAssignments" `
    --query "value[?resourceId=='$($graphSp.id)'].appRoleId" -o tsv)
if ($LASTEXITCODE -ne 0) { Fail "cannot read the identity's app role assignments" }

# Least privilege: only the permissions of the flows this environment runs. A permission is needed when every azd
# environment value in its grantedWhen has the given value (an unset one counts as its switch's default).
function Test-Enabled($entry) {
    $when = $entry.PSObject.Properties['grantedWhen']
    if (-not $when) { return $true }
    foreach ($condition in $when.Value.PSObject.Properties) {
        $value = [Environment]::GetEnvironmentVariable($condition.Name)
        if (-not $value) { $value = $list.switches.($condition.Name).default }
        if ($value -ne $condition.Value) { return $false } # -ne ignores case
    }
    return $true
}
# A permission listed for two flows (one entry each) is needed when either entry is enabled.
$needed = foreach ($permission in ($list.permissions | Group-Object -Property name)) {
    if (@($permission.Group | Where-Object { Test-Enabled $_ }).Count -gt 0) { $permission.Name }
    else { Say "Graph $($permission.Name): not needed by the enabled flows" }
}

foreach ($permission in $needed) {
    $role = $graphSp.appRoles | Where-Object { $_.value -eq $permission -and $_.allowedMemberTypes -contains 'Application' }
    if (-not $role) { Fail "Microsoft Graph has no application permission named $permission" }
    if ($granted -contains $role.id) { Say "Graph ${permission}: already granted"; continue }

    $body = @{ principalId = $identity; resourceId = $graphSp.id; appRoleId = $role.id } | ConvertTo-Json -Compress
    $bodyFile = New-TemporaryFile
    try {
        Set-Content -Path $bodyFile -Value $body -NoNewline
        $output = az rest --method post --url "$graph/v1.0/servicePrincipals/$identity/appRoleAssignments" `
            --headers 'Content-Type=application/json' --body "@$bodyFile" -o none 2>&1
        if ($LASTEXITCODE -ne 0) {
            if ("$output" -match 'Authorization_RequestDenied|Forbidden|403|Insufficient privileges') {
                Fail "you may not grant Microsoft Graph application permissions ($permission). A Privileged Role Administrator or Global Administrator must run 'azd hooks run postprovision' for this environment (or grant the permissions in infra/graph-permissions.json to the managed identity $identity), then restart the function app."
            }
            Fail "granting $permission failed: $output"
        }
    }
    finally { Remove-Item $bodyFile -ErrorAction SilentlyContinue }
    Say "Graph ${permission}: granted"
}

# ---- 2. Key Vault secrets (first values only) ----
function Test-Secret([string] $name) {
    az keyvault secret show --vault-name $vault --name $name --query id -o tsv 2>$null | Out-Null
    return $LASTEXITCODE -eq 0
}

# The value goes through a private temporary file, never through the command line or the log.
function Set-Secret([string] $name, [string] $value) {
    $file = New-TemporaryFile
    try {
        Set-Content -Path $file -Value $value -NoNewline
        $attempts = if ($env:KEYVAULT_RETRY_ATTEMPTS) { [int]$env:KEYVAULT_RETRY_ATTEMPTS } else { 12 }
        $wait = if ($env:KEYVAULT_RETRY_SECONDS) { [int]$env:KEYVAULT_RETRY_SECONDS } else { 10 }
        for ($attempt = 1; ; $attempt++) {
            # Role assignments made by the deployment can take a few minutes to reach Key Vault.
            az keyvault secret set --vault-name $vault --name $name --file $file --encoding utf-8 -o none 2>$null
            if ($LASTEXITCODE -eq 0) { break }
            if ($attempt -ge $attempts) { Fail "cannot write Key Vault secret $name; you need the Key Vault Secrets Officer role on $vault (azd grants it to AZURE_PRINCIPAL_ID)" }
            Start-Sleep -Seconds $wait
        }
    }
    finally { Remove-Item $file -ErrorAction SilentlyContinue }
    Say "Key Vault secret ${name}: set"
}

function New-RandomSecret {
    $bytes = [byte[]]::new(32)
    [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
    return [Convert]::ToHexString($bytes).ToLowerInvariant()
}

function Confirm-GeneratedSecret([string] $name) {
    if (Test-Secret $name) { Say "Key Vault secret ${name}: already set" } else { Set-Secret $name (New-RandomSecret) }
}

function Confirm-GivenSecret([string] $name, [string] $variable, [string] $what) {
    if (Test-Secret $name) { Say "Key Vault secret ${name}: already set"; return }
    $value = [Environment]::GetEnvironmentVariable($variable)
    if (-not $value -and [Environment]::UserInteractive -and -not [Console]::IsInputRedirected) {
        $secure = Read-Host -AsSecureString "postprovision: $what (empty to skip)"
        $value = [System.Net.NetworkCredential]::new('', $secure).Password
    }
    if (-not $value) {
        Say "WARNING: Key Vault secret $name is not set; the app will not start until it is:"
        Say "  az keyvault secret set --vault-name $vault --name $name --file <file holding the $what>"
        return
    }
    Set-Secret $name $value
}

Confirm-GeneratedSecret 'graph-client-state'
Confirm-GeneratedSecret 'servicenow-webhook-signing-secret'
switch ($authMode) {
    'OAuth' { Confirm-GivenSecret 'servicenow-client-secret' 'SERVICENOW_CLIENT_SECRET' 'ServiceNow OAuth client secret' }
    'Basic' { Confirm-GivenSecret 'servicenow-password' 'SERVICENOW_PASSWORD' "ServiceNow integration user's password" }
    default { Fail "SERVICENOW_AUTH_MODE must be OAuth or Basic, not $authMode" }
}

Say 'done. ServiceNow signs its webhook calls with Key Vault secret servicenow-webhook-signing-secret (see docs/deploy.md).'
