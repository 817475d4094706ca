// Only when Graph delivers through Event Grid: authorizes the Microsoft Graph API partner to create the
// partner topic in this resource group. Graph creates the topic when the app subscribes with an
// EventGrid: notification URL; the postdeploy hook activates it and subscribes the function to it.

@description('How long Graph may create partner topics here without a new deployment.')
@minValue(1)
@maxValue(365)
param authorizationDays int = 30

param now string = utcNow()

resource partnerConfiguration 'Microsoft.EventGrid/partnerConfigurations@2025-02-15' = {
  name: 'default'
  location: 'global'
  properties: {
    partnerAuthorization: {
      defaultMaximumExpirationTimeInDays: authorizationDays
      authorizedPartnersList: [
        {
          partnerName: 'MicrosoftGraphAPI'
          // The Microsoft Graph API partner registration (well known, the same in every tenant).
          partnerRegistrationImmutableId: 'c02e0126-707c-436d-b6a1-175d2748fb58'
          authorizationExpirationTimeInUtc: dateTimeAdd(now, 'P${authorizationDays}D')
        }
      ]
    }
  }
}
