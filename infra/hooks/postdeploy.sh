#!/bin/sh
# azd postdeploy hook (POSIX): with Event Grid delivery, activate the partner topic Microsoft Graph created
# and subscribe the deployed GraphEventGrid function to it. With webhook delivery there is nothing to do.
set -eu

# The Event Grid trigger function of src/EntraSnow.Functions (a test checks the name still matches).
function_name=GraphEventGrid
subscription_name=entrasnow-functions

fail() { printf 'postdeploy: %s\n' "$*" >&2; exit 1; }
say() { printf 'postdeploy: %s\n' "$*"; }

if [ "${EVENT_DELIVERY:-webhook}" != "eventgrid" ]; then
  say "webhook delivery: Graph calls the function app directly, nothing to do."
  exit 0
fi

command -v az >/dev/null 2>&1 || fail "the Azure CLI (az) is required: https://aka.ms/azure-cli"
: "${AZURE_RESOURCE_GROUP:?AZURE_RESOURCE_GROUP is not set}"
: "${EVENTGRID_PARTNER_TOPIC:?EVENTGRID_PARTNER_TOPIC is not set}"
: "${AZURE_FUNCTION_APP_ID:?AZURE_FUNCTION_APP_ID is not set}"

# Graph creates the partner topic when the app first subscribes (the SubscriptionUpkeep timer runs at start).
attempt=1
until state=$(az eventgrid partner topic show -g "$AZURE_RESOURCE_GROUP" -n "$EVENTGRID_PARTNER_TOPIC" --query activationState -o tsv 2>/dev/null); do
  if [ "$attempt" -ge "${PARTNER_TOPIC_WAIT_ATTEMPTS:-18}" ]; then
    say "partner topic $EVENTGRID_PARTNER_TOPIC does not exist yet: Graph creates it when the app subscribes."
    say "Check the SubscriptionUpkeep function's log, then run: azd hooks run postdeploy"
    exit 0
  fi
  attempt=$((attempt + 1))
  sleep "${PARTNER_TOPIC_WAIT_SECONDS:-10}"
done

if [ "$state" != "Activated" ]; then
  az eventgrid partner topic activate -g "$AZURE_RESOURCE_GROUP" -n "$EVENTGRID_PARTNER_TOPIC" -o none
  say "partner topic $EVENTGRID_PARTNER_TOPIC: activated"
fi

# Create or update: Event Grid retries for a day, then drops; the function queues before it answers.
az eventgrid partner topic event-subscription create -g "$AZURE_RESOURCE_GROUP" \
  --topic-name "$EVENTGRID_PARTNER_TOPIC" -n "$subscription_name" \
  --endpoint-type azurefunction --endpoint "$AZURE_FUNCTION_APP_ID/functions/$function_name" \
  --event-delivery-schema cloudeventschemav1_0 --max-delivery-attempts 30 --event-ttl 1440 -o none
say "event subscription $subscription_name -> $function_name: ready"
