// Key Vault (RBAC mode) holding the upstream secrets the relay config names; the app reads them as references.
param name string
param location string
param tags object
param principalId string

@secure()
param relayTokenSecret string = ''
@secure()
param bedrockAccessKeyId string = ''
@secure()
param bedrockSecretAccessKey string = ''
@secure()
param vertexCredentials string = ''

var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: true
    // checkov:skip=CKV_AZURE_189: a Flex app without VNet integration resolves Key Vault references over the public endpoint; access is RBAC-only, through the app identity
    publicNetworkAccess: 'Enabled'
    // checkov:skip=CKV_AZURE_109: a Flex app without VNet integration resolves Key Vault references over the public endpoint; access is RBAC-only, through the app identity
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// Reading secret values is all the app does with the vault.
resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, secretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

var secrets = [
  { name: 'relay-token-secret', contentType: 'text/plain' }
  { name: 'bedrock-access-key-id', contentType: 'text/plain' }
  { name: 'bedrock-secret-access-key', contentType: 'text/plain' }
  { name: 'vertex-credentials', contentType: 'application/json' }
]

module tokenSecret 'secret.bicep' = if (!empty(relayTokenSecret)) {
  name: 'secret-relay-token'
  params: {
    vaultName: vault.name
    name: secrets[0].name
    contentType: secrets[0].contentType
    value: relayTokenSecret
  }
}

module bedrockKeyId 'secret.bicep' = if (!empty(bedrockAccessKeyId)) {
  name: 'secret-bedrock-key-id'
  params: {
    vaultName: vault.name
    name: secrets[1].name
    contentType: secrets[1].contentType
    value: bedrockAccessKeyId
  }
}

module bedrockSecret 'secret.bicep' = if (!empty(bedrockSecretAccessKey)) {
  name: 'secret-bedrock-secret-key'
  params: {
    vaultName: vault.name
    name: secrets[2].name
    contentType: secrets[2].contentType
    value: bedrockSecretAccessKey
  }
}

module vertexSecret 'secret.bicep' = if (!empty(vertexCredentials)) {
  name: 'secret-vertex-credentials'
  params: {
    vaultName: vault.name
    name: secrets[3].name
    contentType: secrets[3].contentType
    value: vertexCredentials
  }
}

// Versionless references, so a new secret version reaches the app without a redeploy. Names only, never values.
var reference = '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/'

output name string = vault.name
output appSettings object = union(
  empty(relayTokenSecret) ? {} : { RELAY_TOKEN_SECRET: '${reference}${secrets[0].name}/)' },
  empty(bedrockAccessKeyId) ? {} : { BEDROCK_ACCESS_KEY_ID: '${reference}${secrets[1].name}/)' },
  empty(bedrockSecretAccessKey) ? {} : { BEDROCK_SECRET_ACCESS_KEY: '${reference}${secrets[2].name}/)' },
  empty(vertexCredentials) ? {} : { VERTEX_CREDENTIALS: '${reference}${secrets[3].name}/)' }
)
