// The one identity the Functions app uses for everything: storage, Service Bus, Key Vault, telemetry, Graph.
param location string
param tags object
param name string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
