// EntraSnow on Azure: one resource group with the Functions app (Flex Consumption), Service Bus, storage,
// Key Vault and monitoring. `azd up` provisions this; the hooks under hooks/ do what Bicep cannot
// (Microsoft Graph app-role grants, the secrets' first values, the Event Grid event subscription).
targetScope = 'subscription'

import { checkedAppSettings } from 'app/app-settings.bicep'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region of every resource.')
param location string

@description('Object id of the deploying user (AZURE_PRINCIPAL_ID): granted data roles to run the local host against Azure and to set secrets. Empty grants nothing.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

@allowed(['webhook', 'eventgrid'])
@description('How Graph delivers change notifications: straight to the HTTPS webhook, or through an Event Grid partner topic.')
param eventDelivery string = 'webhook'

@minLength(1)
@description('ServiceNow instance root, e.g. https://dev35214.service-now.com.')
param serviceNowInstanceUrl string

@allowed(['OAuth', 'Basic'])
param serviceNowAuthMode string = 'OAuth'

@minLength(1)
@description('OAuth client id (OAuth) or user name (Basic) of the ServiceNow integration account. Its secret goes to Key Vault, never here.')
param serviceNowAccount string

@minLength(1)
@description('The ServiceNow assignment group (name or sys_id) that risk detection incidents are assigned to.')
param riskAssignmentGroup string = 'Security Operations'

@minLength(3)
@description('Where the alert rules e-mail the operators (ALERT_EMAIL): dead letters, a subscription expiring, intake 5xx, a paused connector.')
param alertEmail string

@description('True while the Graph clientState is being rotated: the previous value stays accepted (see docs/deploy.md).')
param graphClientStateRotation bool = false

@description('True while the ServiceNow webhook signing secret is being rotated: the previous value stays accepted (docs/runbook.md).')
param webhookSecretRotation bool = false

@description('Comma-separated Functions app function names to turn off (DISABLED_FUNCTIONS), e.g. ProvisionUsers,FullSync: see docs/runbook.md.')
param disabledFunctions string = ''

@description('The flows\' app settings (APP_SETTINGS, a JSON object of name to string), e.g. {"InactiveSweep__Enabled": "true"}: kept by every azd provision, unlike settings changed in the portal. Names the deployment owns and secrets are refused (infra/app-settings-policy.json): see docs/deploy.md.')
param appSettings { *: string } = {}

var tags = { 'azd-env-name': environmentName }
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))

// The queues of DESIGN.md; EntraSnow.Flows.Messaging.QueueNames.All must equal this list (a test checks it).
var queueNames = [
  'user-changes'
  'group-changes'
  'risk-detections'
  'password-resets'
  'access-requests'
  'subscription-lifecycle'
]

// The tables of src/EntraSnow.Stores.AzureTables, named prefix + suffix (a test checks they agree with the code):
// checkpoints (watermarks and delta links), the provisioning log's three indexes, the ServiceNow webhook request
// ids remembered against replays, the connector pauses every instance honours and the held copies a lifted pause
// releases at once. The store would create them
// on first use; provisioning them makes the deployment complete before the first message.
var tablePrefix = 'EntraSnow'
var tableSuffixes = [
  'Checkpoints'
  'LogByCorrelation'
  'LogBySubject'
  'LogByDay'
  'WebhookRequests'
  'ConnectorPauses'
  'HeldMessages'
]

var names = {
  resourceGroup: 'rg-${environmentName}'
  identity: 'id-${resourceToken}'
  logAnalytics: 'log-${resourceToken}'
  applicationInsights: 'appi-${resourceToken}'
  storage: 'st${resourceToken}'
  deploymentContainer: 'deployments'
  serviceBus: 'sb-${resourceToken}'
  keyVault: 'kv-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-${resourceToken}'
  actionGroup: 'ag-${resourceToken}'
  partnerTopic: 'entrasnow-graph-${resourceToken}'
}

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module identity 'core/identity.bicep' = {
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.identity
  }
}

module monitoring 'core/monitoring.bicep' = {
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
  }
}

module storage 'core/storage.bicep' = {
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.storage
    deploymentContainerName: names.deploymentContainer
    tableNames: [for suffix in tableSuffixes: '${tablePrefix}${suffix}']
  }
}

module serviceBus 'core/servicebus.bicep' = {
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.serviceBus
    queueNames: queueNames
  }
}

module keyVault 'core/keyvault.bicep' = {
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.keyVault
  }
}

module roles 'app/roles.bicep' = {
  scope: resourceGroup
  params: {
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    serviceBusName: serviceBus.outputs.name
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module functions 'app/functions.bicep' = {
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: names.functionApp
    planName: names.plan
    identityName: identity.outputs.name
    storageAccountName: storage.outputs.name
    deploymentContainerName: names.deploymentContainer
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    serviceBusName: serviceBus.outputs.name
    keyVaultName: keyVault.outputs.name
    tablePrefix: tablePrefix
    eventDelivery: eventDelivery
    partnerTopicName: names.partnerTopic
    serviceNowInstanceUrl: serviceNowInstanceUrl
    serviceNowAuthMode: serviceNowAuthMode
    serviceNowAccount: serviceNowAccount
    riskAssignmentGroup: riskAssignmentGroup
    graphClientStateRotation: graphClientStateRotation
    webhookSecretRotation: webhookSecretRotation
    disabledFunctions: map(filter(split(disabledFunctions, ','), name => !empty(trim(name))), name => trim(name))
    flowSettings: checkedAppSettings(appSettings)
  }
  // The app must not start before its identity may read its deployment package, secrets and queues.
  dependsOn: [roles]
}

// What operators look at (docs/runbook.md): the workbook and the alert rules over the app's telemetry and Service Bus.
module workbook 'app/workbook.bicep' = {
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    serviceBusName: serviceBus.outputs.name
  }
}

module alerts 'app/alerts.bicep' = {
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    serviceBusName: serviceBus.outputs.name
    actionGroupName: names.actionGroup
    alertEmail: alertEmail
  }
}

module eventGrid 'app/eventgrid.bicep' = if (eventDelivery == 'eventgrid') {
  scope: resourceGroup
}

// azd stores these in the environment; the hooks read them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = functions.outputs.name
output AZURE_FUNCTION_APP_ID string = functions.outputs.id
output AZURE_FUNCTION_APP_URL string = 'https://${functions.outputs.defaultHostName}'
output AZURE_MANAGED_IDENTITY_NAME string = identity.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output AZURE_SERVICE_BUS_NAMESPACE string = serviceBus.outputs.name
output AZURE_SERVICE_BUS_ENDPOINT string = serviceBus.outputs.endpoint
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output EVENT_DELIVERY string = eventDelivery
output EVENTGRID_PARTNER_TOPIC string = eventDelivery == 'eventgrid' ? names.partnerTopic : ''
output SERVICENOW_AUTH_MODE string = serviceNowAuthMode
