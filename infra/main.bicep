// The relay on Azure: `azd up` deploys this, then the function code (see azure.yaml and README "Deploying").
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('The azd environment name; it names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource (it must offer Flex Consumption and, when one is created, the model).')
param location string

@allowed(['3.11', '3.12', '3.13'])
@description('Python version of the function app.')
param pythonVersion string = '3.12'

@allowed([512, 2048, 4096])
@description('Memory of each instance in MB.')
param instanceMemoryMB int = 2048

@minValue(1)
@maxValue(1000)
@description('Most instances the app scales out to; bounds the bill under load.')
param maximumInstanceCount int = 40

@minValue(1)
@maxValue(1000)
@description('Concurrent HTTP requests per instance before Flex adds one; relay streams are mostly idle waiting on the model.')
param httpPerInstanceConcurrency int = 200

@description('Resource id of an existing Azure OpenAI account to use; empty creates one.')
param existingOpenAiResourceId string = ''

@description('Deployment (model) name the relay calls; created when no existing account is given.')
param openAiDeploymentName string = 'gpt-4o-mini'
param openAiModelName string = 'gpt-4o-mini'
param openAiModelVersion string = '2024-07-18'

@minValue(1)
@description('Capacity of the created deployment, in thousands of tokens per minute.')
param openAiCapacity int = 30

@minLength(64)
@maxLength(64)
@description('Hex SHA-256 of the relay key the preprovision hook minted (never the key).')
param relayKeySha256 string

@secure()
@description('Signing secret for browser tokens (32+ characters); empty sets no RELAY_TOKEN_SECRET.')
param relayTokenSecret string = ''

@secure()
@description('AWS access key id for Bedrock backends; empty sets no BEDROCK_ACCESS_KEY_ID.')
param bedrockAccessKeyId string = ''

@secure()
@description('AWS secret access key for Bedrock backends; empty sets no BEDROCK_SECRET_ACCESS_KEY.')
param bedrockSecretAccessKey string = ''

@secure()
@description('Google service-account key JSON for Vertex backends; empty sets no VERTEX_CREDENTIALS.')
param vertexCredentials string = ''

var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = 'func-relay-${token}'
var useExistingOpenAi = !empty(existingOpenAiResourceId)
var existingOpenAi = split(existingOpenAiResourceId, '/')

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: group
  params: {
    name: 'id-relay-${token}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: group
  params: {
    name: 'st${token}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    deploymentContainerName: 'app-package-${token}'
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: group
  params: {
    logAnalyticsName: 'log-${token}'
    appInsightsName: 'appi-${token}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  scope: group
  params: {
    appInsightsId: monitoring.outputs.appInsightsId
    location: location
    tags: tags
  }
}

module vault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: group
  params: {
    name: 'kv-${token}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    relayTokenSecret: relayTokenSecret
    bedrockAccessKeyId: bedrockAccessKeyId
    bedrockSecretAccessKey: bedrockSecretAccessKey
    vertexCredentials: vertexCredentials
  }
}

module openAi 'modules/openai.bicep' = if (!useExistingOpenAi) {
  name: 'openai'
  scope: group
  params: {
    name: 'oai-${token}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    deploymentName: openAiDeploymentName
    modelName: openAiModelName
    modelVersion: openAiModelVersion
    capacity: openAiCapacity
  }
}

module openAiAccess 'modules/openai-access.bicep' = if (useExistingOpenAi) {
  name: 'openai-access'
  scope: resourceGroup(useExistingOpenAi ? existingOpenAi[2] : subscription().subscriptionId, useExistingOpenAi ? existingOpenAi[4] : group.name)
  params: {
    accountName: useExistingOpenAi ? existingOpenAi[8] : 'none'
    principalId: identity.outputs.principalId
  }
}

var openAiEndpoint = useExistingOpenAi ? openAiAccess.outputs.endpoint : openAi.outputs.endpoint

// RELAY_CONFIG is infra/relay.azure.json with this deployment's values in place of its __PLACEHOLDERS__, compacted.
var relayConfig = string(json(replace(replace(replace(loadTextContent('relay.azure.json'),
  '__AZURE_OPENAI_ENDPOINT__', openAiEndpoint),
  '__AZURE_OPENAI_DEPLOYMENT__', openAiDeploymentName),
  '__RELAY_KEY_SHA256__', relayKeySha256)))

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: group
  params: {
    planName: 'plan-${token}'
    appName: appName
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    pythonVersion: pythonVersion
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    appInsightsConnectionString: monitoring.outputs.connectionString
    relayConfig: relayConfig
    secretSettings: vault.outputs.appSettings
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output RELAY_URL string = 'https://${functionApp.outputs.hostName}'
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output AZURE_OPENAI_ENDPOINT string = openAiEndpoint

// Keyless Bedrock and Vertex (README: "Keyless AWS and Google"): what the AWS OIDC provider and role trust,
// and the Google workload identity pool provider, are configured with. The managed identity's tokens for the
// audience api://AzureADTokenExchange are v1 tokens, so their issuer is the sts.windows.net form.
output FEDERATION_PRINCIPAL_ID string = identity.outputs.principalId
output FEDERATION_CLIENT_ID string = identity.outputs.clientId
output FEDERATION_ISSUER string = 'https://sts.windows.net/${subscription().tenantId}/'
output FEDERATION_AUDIENCE string = 'api://AzureADTokenExchange'
