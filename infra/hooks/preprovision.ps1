#!/usr/bin/env pwsh
# azd preprovision hook (PowerShell): the same check as preprovision.sh.
# APP_SETTINGS must be one JSON object of setting name to string value, naming no setting the deployment owns and no
# secret (infra/app-settings-policy.json, which the template checks too). Values are never printed.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Fail([string] $message) { [Console]::Error.WriteLine("preprovision: $message"); exit 1 }
function Say([string] $message) { Write-Host "preprovision: $message" }

$example = "azd env set APP_SETTINGS '{`"InactiveSweep__Enabled`":`"true`",`"Risk__Enabled`":`"false`"}'"
$settings = [Environment]::GetEnvironmentVariable('APP_SETTINGS')
if ($null -eq $settings) {
    Say "APP_SETTINGS is not set: the flows run with the deployment's settings and their defaults"
    exit 0
}
# azd reads an unset value as "use the default", but an empty one as JSON, which it is not.
if (-not $settings.Trim()) {
    Fail "APP_SETTINGS is empty; set it to '{}' for no flow settings, or to a JSON object of setting name to string value, e.g. $example"
}

$policyFile = Join-Path $PSScriptRoot '..' 'app-settings-policy.json'
if (-not (Test-Path $policyFile)) { Fail "missing $policyFile" }
$policy = Get-Content $policyFile -Raw | ConvertFrom-Json

# System.Text.Json keeps every key as given (ConvertFrom-Json would fold keys that differ only by case).
try {
    $document = [System.Text.Json.JsonDocument]::Parse($settings)
}
catch {
    Fail "APP_SETTINGS is not valid JSON; it must be one JSON object of setting name to string value, e.g. $example"
}
$root = $document.RootElement
if ($root.ValueKind -ne [System.Text.Json.JsonValueKind]::Object) {
    $kind = $root.ValueKind.ToString().ToLowerInvariant()
    Fail "APP_SETTINGS is a JSON $kind; it must be one JSON object of setting name to string value, e.g. $example"
}

$problems = [System.Collections.Generic.List[string]]::new()
$entries = @($root.EnumerateObject())
foreach ($same in ($entries | Group-Object -Property { $_.Name.ToLowerInvariant() } | Where-Object Count -gt 1)) {
    $problems.Add("$(($same.Group | ForEach-Object Name) -join ' and ') name the same setting (names are case-insensitive): keep one")
}
foreach ($entry in $entries) {
    $key = $entry.Name
    $lower = $key.ToLowerInvariant()
    $owner = $policy.owned | Where-Object {
        $name = $_.name.ToLowerInvariant()
        if ($_.PSObject.Properties['prefix'] -and $_.prefix) { $lower.StartsWith($name, [StringComparison]::Ordinal) } else { $lower -eq $name }
    } | Select-Object -First 1

    if ($key -eq '') { $problems.Add('an empty name is not a setting') }
    elseif ($key -cnotmatch '^[A-Za-z0-9_.]+$') {
        if ($key.Contains(':')) { $problems.Add("$key has ':': write it with __ (App Service on Linux allows letters, digits, _ and . in names)") }
        else { $problems.Add("$key is not a setting name (App Service on Linux allows letters, digits, _ and . in names)") }
    }
    elseif (@($policy.secretNameEndings | Where-Object { $lower.EndsWith($_, [StringComparison]::Ordinal) }).Count -gt 0) {
        $problems.Add("$key names a secret: secrets reach the app only as Key Vault references the deployment writes (docs/runbook.md, `"Rotate secrets without losing notifications`")")
    }
    elseif ($owner) {
        $instead = if ($owner.PSObject.Properties['instead']) { "; use azd env set $($owner.instead)" } else { '' }
        $problems.Add("$key is set by the deployment ($($owner.by))$instead")
    }
    elseif ($entry.Value.ValueKind -ne [System.Text.Json.JsonValueKind]::String) {
        $kind = switch ($entry.Value.ValueKind) { 'True' { 'boolean' } 'False' { 'boolean' } default { $_.ToString().ToLowerInvariant() } }
        $problems.Add("$key must have a string value (a JSON $kind was given): write `"true`", `"30`", not true, 30")
    }
}

if ($problems.Count -gt 0) {
    foreach ($problem in $problems) { [Console]::Error.WriteLine("preprovision: APP_SETTINGS: $problem") }
    Fail "nothing was deployed: fix APP_SETTINGS (azd env set APP_SETTINGS '{...}') and run azd provision again"
}

if ($entries.Count -eq 0) { Say 'APP_SETTINGS: no flow settings' }
else { Say "APP_SETTINGS: $(($entries | ForEach-Object Name) -join ', ') (written beside the deployment's own settings)" }
