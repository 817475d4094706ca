import '@servicenow/sdk/global'
import { ScriptInclude } from '@servicenow/sdk/core'

export const EntraSnowWebhook = ScriptInclude({
    $id: Now.ID['EntraSnowWebhook'],
    name: 'EntraSnowWebhook',
    script: Now.include('../server/script-includes/entrasnow-webhook.js'),
    description: 'Signs (HMAC-SHA256) and sends the catalog webhooks to EntraSnow.',
    accessibleFrom: 'package_private',
})
