// The Functions app on Flex Consumption with its user-assigned identity. Every connection is
// identity-based; every secret is a Key Vault reference resolved with the same identity.
import { mergedAppSettings } from 'app-settings.bicep'

param location string
param tags object
param name string
param planName string
param identityName string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param serviceBusName string
param keyVaultName string

@description('Prefix of the Azure Table store\'s table names (AzureTables:TablePrefix).')
param tablePrefix string

@allowed(['webhook', 'eventgrid'])
param eventDelivery string

@description('The Event Grid partner topic Graph creates (eventgrid delivery only).')
param partnerTopicName string

param serviceNowInstanceUrl string

@allowed(['OAuth', 'Basic'])
param serviceNowAuthMode string

@description('OAuth client id (OAuth) or user name (Basic) of the ServiceNow integration account; not a secret.')
param serviceNowAccount string

@description('The ServiceNow assignment group (name or sys_id) for risk detection incidents.')
param riskAssignmentGroup string

@description('While rotating the Graph clientState, the old value is still accepted from Key Vault secret graph-previous-client-state.')
param graphClientStateRotation bool

@description('While rotating the ServiceNow webhook signing secret, the old value is still accepted from Key Vault secret servicenow-webhook-previous-signing-secret.')
param webhookSecretRotation bool

@description('Functions the runtime leaves alone (AzureWebJobs.<name>.Disabled): a queue consumer so turned off leaves its messages waiting in Service Bus.')
param disabledFunctions string[]

@description('The flows\' settings from APP_SETTINGS (already checked by main.bicep): over the defaults below, under the deployment\'s own.')
param flowSettings { *: string }

@description('Scale-out ceiling. ServiceNow throttles per instance, so more workers would mostly collect 429s.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 10

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'functions' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled' // Graph and ServiceNow call in over the internet.
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  // azd deploys with Entra ID; publishing with user names and passwords stays off.
  resource ftpCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: { allow: false }
  }

  resource scmCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: { allow: false }
  }
}

var secretUri = '${keyVault.properties.vaultUri}secrets'
var siteUrl = 'https://${functionApp.properties.defaultHostName}'

// Graph calls the webhook routes directly, or publishes to the partner topic that feeds the Event Grid trigger
// (the app builds Graph's EventGrid: notification URL from these parts).
var notificationUrls = eventDelivery == 'eventgrid'
  ? {
      Subscriptions__Delivery: 'EventGrid'
      Subscriptions__EventGrid__AzureSubscriptionId: subscription().subscriptionId
      Subscriptions__EventGrid__ResourceGroup: resourceGroup().name
      Subscriptions__EventGrid__PartnerTopic: partnerTopicName
      Subscriptions__EventGrid__Location: location
    }
  : {
      Subscriptions__Delivery: 'Webhook'
      Subscriptions__NotificationUrl: '${siteUrl}/api/graph/notifications'
      Subscriptions__LifecycleNotificationUrl: '${siteUrl}/api/graph/lifecycle'
    }

var serviceNowCredentials = serviceNowAuthMode == 'OAuth'
  ? {
      ServiceNow__ClientId: serviceNowAccount
      ServiceNow__ClientSecret: '@Microsoft.KeyVault(SecretUri=${secretUri}/servicenow-client-secret)'
    }
  : {
      ServiceNow__Username: serviceNowAccount
      ServiceNow__Password: '@Microsoft.KeyVault(SecretUri=${secretUri}/servicenow-password)'
    }

var previousClientState = graphClientStateRotation
  ? { Graph__PreviousClientState: '@Microsoft.KeyVault(SecretUri=${secretUri}/graph-previous-client-state)' }
  : {}

var previousSigningSecret = webhookSecretRotation
  ? { ServiceNowWebhook__PreviousSigningSecret: '@Microsoft.KeyVault(SecretUri=${secretUri}/servicenow-webhook-previous-signing-secret)' }
  : {}

// Set here rather than by hand, because every `azd provision` rewrites the whole set of app settings.
var disabledFunctionSettings = toObject(disabledFunctions, name => 'AzureWebJobs.${name}.Disabled', name => 'true')

// The timers' schedules (six-field CRON, UTC), which the Functions TimerTriggers read as %Section:Schedule% and the
// flows validate at start-up. Defaults: APP_SETTINGS may change them, like any flow setting.
var flowDefaults = {
  // The inactive-account sweep.
  InactiveSweep__Schedule: '0 0 3 * * *'
  // Retention: old provisioning log rows, deleted objects' checkpoints, spent webhook ids, old dead letters.
  Retention__Schedule: '0 30 3 * * *'
  // The risk detection poller: every 5 minutes.
  Risk__PollSchedule: '0 */5 * * * *'
}

var serviceBusHost = split(replace(serviceBus.properties.serviceBusEndpoint, 'https://', ''), ':')[0]

var baseSettings = {
  // Host storage through the identity (no AzureWebJobsStorage connection string, no account key).
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table

  // Telemetry accepted only with the identity's Entra ID token (local auth is off on the component).
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'

  // The identity for any DefaultAzureCredential in the app (Tables, Service Bus sends).
  AZURE_CLIENT_ID: identity.properties.clientId

  // Service Bus triggers (Connection = "ServiceBusConnection") and the REST sender behind the queue port.
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusHost
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identity.properties.clientId
  ServiceBus__FullyQualifiedNamespace: serviceBusHost

  // Graph with the managed identity's application permissions (granted by the postprovision hook).
  Graph__Credential: 'ManagedIdentity'
  Graph__ManagedIdentityClientId: identity.properties.clientId
  Graph__TenantId: subscription().tenantId
  Graph__ClientState: '@Microsoft.KeyVault(SecretUri=${secretUri}/graph-client-state)'

  ServiceNow__InstanceUrl: serviceNowInstanceUrl
  ServiceNow__AuthMode: serviceNowAuthMode
  ServiceNowWebhook__SigningSecret: '@Microsoft.KeyVault(SecretUri=${secretUri}/servicenow-webhook-signing-secret)'

  Risk__Incident__AssignmentGroup: riskAssignmentGroup

  // Checkpoints, delta links and the provisioning log, through the identity.
  AzureTables__Endpoint: storage.properties.primaryEndpoints.table
  AzureTables__ManagedIdentityClientId: identity.properties.clientId
  AzureTables__TablePrefix: tablePrefix
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  // The whole set is written on every `azd provision`: what an operator changes lives in APP_SETTINGS, not the portal.
  properties: mergedAppSettings(
    flowDefaults,
    flowSettings,
    union(baseSettings, notificationUrls, serviceNowCredentials, previousClientState, previousSigningSecret, disabledFunctionSettings)
  )
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output id string = functionApp.id
