// The app settings an operator gives through the azd environment value APP_SETTINGS (the flows' switches and tuning)
// and how they join the ones the deployment owns. infra/app-settings-policy.json is the one list of what APP_SETTINGS
// may not set; the preprovision hooks refuse the same names before anything is deployed.

// The first owner's reason, or empty for a name no entry owns.
func ownerRefusal(owners array) string =>
  empty(owners)
    ? ''
    : 'is set by the deployment (${owners[0].by})${empty(owners[0].?instead ?? '') ? '' : '; use azd env set ${owners[0].instead}'}'

@export()
@description('Why APP_SETTINGS may not set this name, or empty when it may.')
func refusal(name string) string =>
  contains(name, ':')
    ? 'has \':\': write it with __ (App Service on Linux allows letters, digits, _ and . in names)'
    : !empty(filter(loadJsonContent('../app-settings-policy.json').secretNameEndings, ending => endsWith(toLower(name), ending)))
        ? 'names a secret: secrets reach the app only as Key Vault references the deployment writes (docs/runbook.md, "Rotate secrets without losing notifications")'
        : ownerRefusal(filter(
            loadJsonContent('../app-settings-policy.json').owned,
            owned => (owned.?prefix ?? false) ? startsWith(toLower(name), toLower(owned.name)) : toLower(name) == toLower(owned.name)
          ))

@export()
@description('The settings as given, or a failed deployment naming every key APP_SETTINGS may not set and why.')
func checkedAppSettings(settings object) object =>
  empty(filter(items(settings), setting => !empty(refusal(setting.key))))
    ? settings
    : fail('APP_SETTINGS: ${join(map(filter(items(settings), setting => !empty(refusal(setting.key))), setting => '${setting.key} ${refusal(setting.key)}'), '; ')}')

@export()
@description('The app settings: the flows\' defaults, then APP_SETTINGS over them, then the deployment\'s own over both (names compare case-insensitively, so a differently cased copy cannot replace one).')
func mergedAppSettings(flowDefaults object, appSettings object, deploymentSettings object) object =>
  union(flowDefaults, appSettings, deploymentSettings)
