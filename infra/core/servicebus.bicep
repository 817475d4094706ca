// The queues between intake and work. Standard tier: sessions and duplicate detection need it.
// Local (SAS) auth is disabled, so only Entra ID principals with a data role can send or receive.
param location string
param tags object
param name string
param queueNames string[]

@description('Deliveries before Service Bus dead-letters a message on its own (crashes, lost locks); the flows reschedule transient failures themselves.')
@minValue(1)
param maxDeliveryCount int = 10

@description('Peek-lock (session lock) length; the host renews it while a message is being worked on (host.json maxAutoLockRenewalDuration).')
param lockDuration string = 'PT1M'

@description('Window in which a second message with the same MessageId is dropped: Graph repeats notifications within minutes.')
param duplicateDetectionWindow string = 'PT10M'

@description('A message nobody could process in this time is dead-lettered, not silently dropped.')
param messageTimeToLive string = 'P14D'

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }

  resource queues 'queues' = [for queueName in queueNames: {
    name: queueName
    properties: {
      // One object at a time: the session id is the object id (DESIGN.md).
      requiresSession: true
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
      maxDeliveryCount: maxDeliveryCount
      lockDuration: lockDuration
      defaultMessageTimeToLive: messageTimeToLive
      deadLetteringOnMessageExpiration: true
      enableBatchedOperations: true
      enablePartitioning: false
    }
  }]
}

output name string = serviceBus.name
output endpoint string = serviceBus.properties.serviceBusEndpoint
