// The Flex Consumption plan and the Linux function app that runs the relay.
param planName string
param appName string
param location string
param tags object
param identityId string
param identityClientId string
param pythonVersion string
param instanceMemoryMB int
param maximumInstanceCount int
param httpPerInstanceConcurrency int
param deploymentContainerUrl string
param storageBlobEndpoint string
param storageTableEndpoint string
param appInsightsConnectionString string
param relayConfig string
param secretSettings object

// Identity-based host storage (no connection string exists: the account refuses shared keys).
// AZURE_CLIENT_ID makes DefaultAzureCredential (Azure OpenAI, Table quotas) pick the user-assigned identity.
var baseSettings = {
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  RELAY_CONFIG: relayConfig
}

// HTTP streaming needs init indexing on the Python 3.11 and 3.12 workers; the 3.13 worker does without.
var initIndexing = contains(['3.11', '3.12'], pythonVersion) ? { PYTHON_ENABLE_INIT_INDEXING: '1' } : {}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  // checkov:skip=CKV_AZURE_225: zone redundancy is not offered in every Flex region and raises the always-ready floor; opt in where available
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'relay' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    // checkov:skip=CKV_AZURE_222: the relay is a public API for browsers and SDKs; it refuses anonymous calls on Azure
    httpsOnly: true
    // checkov:skip=CKV_AZURE_17: callers are browsers and SDKs that authenticate with relay keys or tokens, not client certificates
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      // checkov:skip=CKV_AZURE_213: a platform health-check ping every minute would keep an instance billed; /api/health is for operators (README)
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [for setting in items(union(baseSettings, initIndexing, secretSettings)): {
        name: setting.key
        value: setting.value
      }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      // checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero; always-ready instances would bill around the clock (add them if idle cost is no concern)
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
}

// Deployments go through azd / Core Tools with Entra tokens; no publishing passwords.
resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output hostName string = app.properties.defaultHostName
