// Alert rules that e-mail the operators (ALERT_EMAIL) through one action group: dead letters waiting, a Graph
// subscription expiring within 24 hours (or none reported), intake answering 5xx, a connector paused by a refused
// credential. The queries read the metrics the Functions app exports (src/EntraSnow.Functions/Telemetry); their names
// are held to the code's constants by EntraSnow.Infra.Tests. What to do when one fires: docs/runbook.md.
param location string
param tags object
param applicationInsightsName string
param serviceBusName string

@description('Short name of the action group (at most 12 characters, shown in SMS and e-mail).')
@maxLength(12)
param actionGroupShortName string = 'EntraSnow'

param actionGroupName string

@minLength(3)
@description('Where alerts are e-mailed.')
param alertEmail string

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    enabled: true
    groupShortName: actionGroupShortName
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Service Bus counts each queue's dead letters itself: any at all is worth a look (they stay until replayed or received).
resource deadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'entrasnow-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'A queue holds dead-lettered messages: read their reason and replay them (docs/runbook.md, "Replay dead letters").'
    severity: 2
    enabled: true
    scopes: [serviceBus.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'DeadLetters'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          // One alert per queue: the EntityName dimension is the queue.
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: [
      { actionGroupId: actionGroup.id }
    ]
  }
}

var logAlerts = [
  {
    name: 'entrasnow-subscription-expiring'
    displayName: 'EntraSnow: Graph subscription expiring within 24 h'
    description: 'A Graph subscription expires within 24 hours, or none was reported in the last day: upkeep is not renewing (docs/runbook.md, "Renew or recreate subscriptions").'
    severity: 1
    evaluationFrequency: 'PT1H'
    windowSize: 'P1D'
    // The last expiration reported per resource, and one row when nothing was reported at all (upkeep not running).
    query: '''
let reported = customMetrics
    | where name == "entrasnow.subscriptions.expiration"
    | summarize arg_max(timestamp, value) by resource = tostring(customDimensions["resource"])
    | extend expires = unixtime_seconds_todatetime(value);
let expiring = reported | where expires < now() + 24h | project resource, expires;
let silent = reported | count | where Count == 0 | project resource = "(no subscription reported)", expires = datetime(null);
union expiring, silent
'''
  }
  {
    name: 'entrasnow-intake-5xx'
    displayName: 'EntraSnow: intake answered 5xx'
    description: 'Intake answered 5xx (the queue write failed): Graph and ServiceNow retry, but a lasting failure loses notifications (docs/runbook.md).'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    query: '''
requests
| where url has "/api/graph/" or url has "/api/servicenow/"
| where toint(resultCode) >= 500
'''
  }
  {
    name: 'entrasnow-connector-paused'
    displayName: 'EntraSnow: connector paused by a refused credential'
    description: 'Graph or ServiceNow refused EntraSnow\'s credential and its work is paused until it works again (docs/runbook.md, "Rotate secrets").'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    query: '''
customMetrics
| where name == "entrasnow.connectors.paused"
| extend connector = tostring(customDimensions["connector"]), queue = tostring(customDimensions["queue"])
'''
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for alert in logAlerts: {
  name: alert.name
  location: location
  tags: tags
  properties: {
    displayName: alert.displayName
    description: alert.description
    severity: alert.severity
    enabled: true
    scopes: [applicationInsights.id]
    evaluationFrequency: alert.evaluationFrequency
    windowSize: alert.windowSize
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}]

output actionGroupId string = actionGroup.id
