// The operator's workbook on the relay's Application Insights: its panels are infra/workbook/relay-workbook.json.
param appInsightsId string
param location string
param tags object

@description('Name shown in the portal under the Application Insights resource\'s Workbooks.')
param displayName string = 'LLM stream relay'

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; derived from the component so a redeploy updates the same one.
  name: guid(appInsightsId, 'relay-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsightsId
    serializedData: loadTextContent('../workbook/relay-workbook.json')
    version: '1.0'
  }
}

output id string = workbook.id
