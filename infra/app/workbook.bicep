// The operators' Azure Monitor workbook "EntraSnow operations", over the telemetry the Functions app exports to
// Application Insights (src/EntraSnow.Functions/Telemetry) and the Service Bus namespace's own metrics. Every metric and
// dimension name below is a constant in the code (MessagingTelemetry, IntakeMetrics, ProvisioningTelemetry,
// SubscriptionTelemetry, MessageKinds): EntraSnow.Infra.Tests holds the two together, so a rename breaks the build's tests.
param location string
param tags object
param applicationInsightsName string
param serviceBusName string

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusName
}

// Queries read the classic Application Insights tables (the workbook's source is the component): customMetrics carries
// the OpenTelemetry counters and histograms with their tags in customDimensions, requests the host's HTTP requests.
var queries = {
  notificationsReceived: '''
customMetrics
| where name == "entrasnow.intake.queued"
| summarize notifications = sum(valueSum) by queue = tostring(customDimensions["queue"]), bin(timestamp, {TimeRange:grain})
| render timechart
'''
  notificationsRefused: '''
customMetrics
| where name in ("entrasnow.intake.client_state_rejected", "entrasnow.intake.dropped")
| summarize notifications = sum(valueSum) by name, bin(timestamp, {TimeRange:grain})
| render timechart
'''
  changeToWriteLatency: '''
customMetrics
| where name == "entrasnow.messages.change_latency"
| where tostring(customDimensions["kind"]) in ("user.updated", "user.deleted", "group.updated", "group.deleted")
| summarize average_seconds = sum(valueSum) / sum(valueCount), longest_seconds = max(valueMax), changes = sum(valueCount)
    by queue = tostring(customDimensions["queue"]), bin(timestamp, {TimeRange:grain})
| render timechart
'''
  decisionsByAction: '''
customMetrics
| where name == "entrasnow.provisioning.decisions"
| summarize decisions = sum(valueSum) by action = tostring(customDimensions["action"]), object_kind = tostring(customDimensions["object_kind"])
| order by decisions desc
'''
  deliveryFailures: '''
customMetrics
| where name == "entrasnow.messages.processed"
| extend outcome = tostring(customDimensions["outcome"])
| where outcome in ("rescheduled", "dead_lettered")
| summarize deliveries = sum(valueSum) by queue = tostring(customDimensions["queue"]), outcome, bin(timestamp, {TimeRange:grain})
| render timechart
'''
  failedDecisions: '''
customMetrics
| where name == "entrasnow.provisioning.decisions"
| where tostring(customDimensions["action"]) in ("failed", "conflict")
| summarize decisions = sum(valueSum) by action = tostring(customDimensions["action"]), object_kind = tostring(customDimensions["object_kind"]), bin(timestamp, {TimeRange:grain})
| render timechart
'''
  connectorPauses: '''
customMetrics
| where name == "entrasnow.connectors.paused"
| project timestamp, connector = tostring(customDimensions["connector"]), queue = tostring(customDimensions["queue"]), instance = cloud_RoleInstance
| order by timestamp desc
'''
  intakeErrors: '''
requests
| where url has "/api/graph/" or url has "/api/servicenow/"
| where toint(resultCode) >= 500
| summarize requests = count() by name, resultCode, bin(timestamp, {TimeRange:grain})
| render timechart
'''
  subscriptionExpiry: '''
customMetrics
| where timestamp > ago(30d)
| where name == "entrasnow.subscriptions.expiration"
| summarize arg_max(timestamp, value) by resource = tostring(customDimensions["resource"])
| extend expires = unixtime_seconds_todatetime(value)
| project resource, expires, hours_left = round((expires - now()) / 1h, 1), reported = timestamp
| order by expires asc
'''
}

var logsItem = {
  queryType: 0
  resourceType: 'microsoft.insights/components'
  timeContextFromParameter: 'TimeRange'
  size: 0
}

var content = {
  version: 'Notebook/1.0'
  items: [
    {
      type: 1
      name: 'about'
      content: {
        json: '## EntraSnow operations\nNotifications received, how long a change takes to reach ServiceNow, what provisioning decided, what failed, the dead letters waiting in each queue and when the Graph subscriptions expire. What to do about each: docs/runbook.md.'
      }
    }
    {
      type: 9
      name: 'parameters'
      content: {
        version: 'KqlParameterItem/1.0'
        style: 'pills'
        queryType: 0
        resourceType: 'microsoft.insights/components'
        parameters: [
          {
            id: 'b1f4b3a2-6a0e-4c41-9d55-4f9c8a1e0d01'
            version: 'KqlParameterItem/1.0'
            name: 'TimeRange'
            label: 'Time range'
            type: 4
            isRequired: true
            value: { durationMs: 86400000 }
            typeSettings: {
              allowCustom: true
              selectableValues: [
                { durationMs: 3600000 }
                { durationMs: 14400000 }
                { durationMs: 86400000 }
                { durationMs: 604800000 }
                { durationMs: 2592000000 }
              ]
            }
          }
        ]
      }
    }
    {
      type: 3
      name: 'notifications-received'
      content: union(logsItem, { version: 'KqlItem/1.0', title: 'Notifications received (queued by intake, per queue)', query: queries.notificationsReceived, visualization: 'timechart' })
    }
    {
      type: 3
      name: 'notifications-refused'
      content: union(logsItem, { version: 'KqlItem/1.0', title: 'Notifications refused (wrong clientState) or dropped (unusable)', query: queries.notificationsRefused, visualization: 'timechart' })
    }
    {
      type: 3
      name: 'change-to-write-latency'
      content: union(logsItem, { version: 'KqlItem/1.0', title: 'Change to write: seconds from a user or group change to its delivery completing', query: queries.changeToWriteLatency, visualization: 'timechart' })
    }
    {
      type: 3
      name: 'decisions-by-action'
      content: union(logsItem, { version: 'KqlItem/1.0', title: 'Provisioning decisions by action', query: queries.decisionsByAction, visualization: 'barchart' })
    }
    {
      type: 3
      name: 'delivery-failures'
      content: union(logsItem, { version: 'KqlItem/1.0', title: 'Failures: deliveries rescheduled or dead-lettered, per queue', query: queries.deliveryFailures, visualization: 'timechart' })
    }
    {
      type: 3
      name: 'failed-decisions'
      content: union(logsItem, { version: 'KqlItem/1.0', title: 'Failures: users and groups provisioning failed or left in conflict', query: queries.failedDecisions, visualization: 'timechart' })
    }
    {
      type: 3
      name: 'intake-errors'
      content: union(logsItem, { version: 'KqlItem/1.0', title: 'Failures: intake answers 5xx (the sender retries)', query: queries.intakeErrors, visualization: 'timechart' })
    }
    {
      type: 3
      name: 'connector-pauses'
      content: union(logsItem, { version: 'KqlItem/1.0', title: 'Connectors paused by a refused credential', query: queries.connectorPauses, visualization: 'table' })
    }
    {
      type: 10
      name: 'dead-letters'
      content: {
        chartId: 'entrasnow-dead-letters'
        version: 'MetricsItem/2.0'
        title: 'Dead letters per queue (replay: docs/runbook.md)'
        size: 0
        chartType: 2
        resourceType: 'microsoft.servicebus/namespaces'
        metricScope: 0
        resourceIds: [serviceBus.id]
        timeContextFromParameter: 'TimeRange'
        timeContext: { durationMs: 86400000 }
        metrics: [
          {
            namespace: 'microsoft.servicebus/namespaces'
            metric: 'microsoft.servicebus/namespaces--DeadletteredMessages'
            aggregation: 3
            splitBy: 'EntityName'
          }
        ]
      }
    }
    {
      type: 3
      name: 'subscription-expiry'
      content: {
        version: 'KqlItem/1.0'
        title: 'Graph subscriptions: when each expires (renewed 2 days before)'
        query: queries.subscriptionExpiry
        queryType: 0
        resourceType: 'microsoft.insights/components'
        size: 0
        visualization: 'table'
      }
    }
  ]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; this one is stable per resource group, so a redeployment updates it in place.
  name: guid(resourceGroup().id, 'entrasnow-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'EntraSnow operations'
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(content)
  }
}

output id string = workbook.id
