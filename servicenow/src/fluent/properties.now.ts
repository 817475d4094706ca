import { Property } from '@servicenow/sdk/core'

// Where EntraSnow runs and the secret both sides share. Only admins read or change them; the secret is a password2
// property (stored encrypted, shown masked), read by the webhook sender alone.
Property({
    $id: Now.ID['entrasnow-url'],
    name: 'x_entrasnow.url',
    type: 'string',
    value: '',
    description:
        'EntraSnow base URL, without a trailing slash (e.g. https://func-entrasnow-prod.azurewebsites.net). Webhooks go to {url}/api/servicenow/password-reset and {url}/api/servicenow/access-request.',
    roles: { read: ['admin'], write: ['admin'] },
})

Property({
    $id: Now.ID['entrasnow-signing-secret'],
    name: 'x_entrasnow.signing_secret',
    type: 'password2',
    value: '',
    description:
        'Shared secret that signs every webhook (HMAC-SHA256). Must equal EntraSnow\'s ServiceNowWebhook:SigningSecret; while rotating, EntraSnow also accepts ServiceNowWebhook:PreviousSigningSecret.',
    roles: { read: ['admin'], write: ['admin'] },
    isPrivate: true,
})

Property({
    $id: Now.ID['entrasnow-timeout'],
    name: 'x_entrasnow.timeout_ms',
    type: 'integer',
    value: 10000,
    description: 'How long the webhook sender waits for EntraSnow\'s answer, in milliseconds.',
    roles: { read: ['admin'], write: ['admin'] },
})
