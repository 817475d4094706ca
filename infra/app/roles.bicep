// Least-privilege data-plane roles, each scoped to the one resource it is for (never the resource group,
// never Owner or Contributor). The app's identity gets what the code uses; the deploying user, when given,
// gets what a developer needs to run the local host against this deployment and to set the secrets.
param identityPrincipalId string

@description('The deploying user (azd sets AZURE_PRINCIPAL_ID); empty skips the user\'s roles.')
param userPrincipalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
param userPrincipalType string = 'User'

param serviceBusName string
param storageAccountName string
param keyVaultName string
param applicationInsightsName string

// Built-in role definition ids, written out so the compiled template states exactly what is granted.
var identityGrants = [
  // Intake sends (Service Bus SDK over AMQP); consumers receive, complete, reschedule and dead-letter.
  { resource: 'serviceBus', role: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39', roleName: 'Azure Service Bus Data Sender' }
  { resource: 'serviceBus', role: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0', roleName: 'Azure Service Bus Data Receiver' }
  // The host's timer leases and keys, and the Flex Consumption deployment package container.
  { resource: 'storage', role: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', roleName: 'Storage Blob Data Owner' }
  // Checkpoints, delta links, provisioning log, and the host's diagnostic events.
  { resource: 'storage', role: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', roleName: 'Storage Table Data Contributor' }
  // Key Vault references: read secret values, nothing else.
  { resource: 'keyVault', role: '4633458b-17de-408a-b874-0445c86b69e6', roleName: 'Key Vault Secrets User' }
  // Application Insights with local auth off accepts telemetry only from principals holding this role.
  { resource: 'applicationInsights', role: '3913510d-42f4-4e42-8a64-420c390055eb', roleName: 'Monitoring Metrics Publisher' }
]

var userGrants = [
  { resource: 'serviceBus', role: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39', roleName: 'Azure Service Bus Data Sender' }
  { resource: 'serviceBus', role: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0', roleName: 'Azure Service Bus Data Receiver' }
  { resource: 'storage', role: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', roleName: 'Storage Table Data Contributor' }
  // Sets and rotates the secrets (the hooks and docs/deploy.md do it as this user).
  { resource: 'keyVault', role: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7', roleName: 'Key Vault Secrets Officer' }
]

var grants = concat(
  map(identityGrants, g => union(g, { principalId: identityPrincipalId, principalType: 'ServicePrincipal' })),
  empty(userPrincipalId) ? [] : map(userGrants, g => union(g, { principalId: userPrincipalId, principalType: userPrincipalType }))
)

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusName
}

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource serviceBusRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for grant in filter(grants, g => g.resource == 'serviceBus'): {
  name: guid(serviceBus.id, grant.principalId, grant.role)
  scope: serviceBus
  properties: {
    principalId: grant.principalId
    principalType: grant.principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grant.role)
  }
}]

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for grant in filter(grants, g => g.resource == 'storage'): {
  name: guid(storage.id, grant.principalId, grant.role)
  scope: storage
  properties: {
    principalId: grant.principalId
    principalType: grant.principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grant.role)
  }
}]

resource keyVaultRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for grant in filter(grants, g => g.resource == 'keyVault'): {
  name: guid(keyVault.id, grant.principalId, grant.role)
  scope: keyVault
  properties: {
    principalId: grant.principalId
    principalType: grant.principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grant.role)
  }
}]

resource telemetryRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for grant in filter(grants, g => g.resource == 'applicationInsights'): {
  name: guid(applicationInsights.id, grant.principalId, grant.role)
  scope: applicationInsights
  properties: {
    principalId: grant.principalId
    principalType: grant.principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grant.role)
  }
}]
