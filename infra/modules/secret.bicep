// One Key Vault secret. A module so the vault can create each secret only when the user supplied a value.
param vaultName string
param name string
param contentType string

@secure()
param value string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  // checkov:skip=CKV_AZURE_41: these are third-party credentials (AWS, Google) or the user's own signing secret, whose lifetime their issuer sets; an expiry here would stop the relay without rotating anything
  parent: vault
  name: name
  properties: {
    value: value
    contentType: contentType
  }
}
