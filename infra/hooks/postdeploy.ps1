#!/usr/bin/env pwsh
# azd postdeploy hook (PowerShell): the same steps as postdeploy.sh. With Event Grid delivery, activate the
# partner topic Microsoft Graph created and subscribe the deployed GraphEventGrid function to it.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# The Event Grid trigger function of src/EntraSnow.Functions (a test checks the name still matches).
$functionName = 'GraphEventGrid'
$subscriptionName = 'entrasnow-functions'

function Fail([string] $message) { Write-Error "postdeploy: $message"; exit 1 }
function Say([string] $message) { Write-Host "postdeploy: $message" }

if ($env:EVENT_DELIVERY -ne 'eventgrid') {
    Say 'webhook delivery: Graph calls the function app directly, nothing to do.'
    exit 0
}

if (-not (Get-Command az -ErrorAction SilentlyContinue)) { Fail 'the Azure CLI (az) is required: https://aka.ms/azure-cli' }
$group = $env:AZURE_RESOURCE_GROUP
$topic = $env:EVENTGRID_PARTNER_TOPIC
$app = $env:AZURE_FUNCTION_APP_ID
if (-not $group -or -not $topic -or -not $app) { Fail 'AZURE_RESOURCE_GROUP, EVENTGRID_PARTNER_TOPIC and AZURE_FUNCTION_APP_ID must be set (run azd provision)' }

# Graph creates the partner topic when the app first subscribes (the SubscriptionUpkeep timer runs at start).
$attempts = if ($env:PARTNER_TOPIC_WAIT_ATTEMPTS) { [int]$env:PARTNER_TOPIC_WAIT_ATTEMPTS } else { 18 }
$wait = if ($env:PARTNER_TOPIC_WAIT_SECONDS) { [int]$env:PARTNER_TOPIC_WAIT_SECONDS } else { 10 }
for ($attempt = 1; ; $attempt++) {
    $state = az eventgrid partner topic show -g $group -n $topic --query activationState -o tsv 2>$null
    if ($LASTEXITCODE -eq 0) { break }
    if ($attempt -ge $attempts) {
        Say "partner topic $topic does not exist yet: Graph creates it when the app subscribes."
        Say "Check the SubscriptionUpkeep function's log, then run: azd hooks run postdeploy"
        exit 0
    }
    Start-Sleep -Seconds $wait
}

if ($state -ne 'Activated') {
    az eventgrid partner topic activate -g $group -n $topic -o none
    if ($LASTEXITCODE -ne 0) { Fail "cannot activate partner topic $topic" }
    Say "partner topic ${topic}: activated"
}

# Create or update: Event Grid retries for a day, then drops; the function queues before it answers.
az eventgrid partner topic event-subscription create -g $group --topic-name $topic -n $subscriptionName `
    --endpoint-type azurefunction --endpoint "$app/functions/$functionName" `
    --event-delivery-schema cloudeventschemav1_0 --max-delivery-attempts 30 --event-ttl 1440 -o none
if ($LASTEXITCODE -ne 0) { Fail "cannot create event subscription $subscriptionName" }
Say "event subscription $subscriptionName -> ${functionName}: ready"
