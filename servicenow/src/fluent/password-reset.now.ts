import '@servicenow/sdk/global'
import { BusinessRule, CatalogItem, MultiLineTextVariable, RequestedForVariable } from '@servicenow/sdk/core'

export const passwordReset = CatalogItem({
    $id: Now.ID['password-reset-item'],
    name: 'Reset a password (EntraSnow)',
    shortDescription: 'Reset the Microsoft Entra ID password of yourself or someone you manage',
    description:
        'EntraSnow checks that you may reset this account (yourself, your direct reports, or the service desk), issues a Temporary Access Pass and sends it to the manager on record. The pass never appears in this ticket.',
    // The platform's Service Catalog (sc_catalog), the same sys_id on every instance.
    catalogs: ['e0d08b13c3330100c8b837659bba8fb4'],
    variables: {
        requested_for: RequestedForVariable({
            question: 'Whose password?',
            mandatory: true,
            order: 100,
        }),
        reason: MultiLineTextVariable({
            question: 'Why is a reset needed?',
            mandatory: false,
            order: 200,
        }),
    },
    fulfillmentAutomationLevel: 'fullyAutomated',
    requestMethod: 'request',
    hideAddToCart: true,
    noQuantity: true,
})

BusinessRule({
    $id: Now.ID['send-password-reset'],
    name: 'EntraSnow: send password reset',
    table: 'sc_req_item',
    when: 'async',
    action: ['insert'],
    filterCondition: 'cat_item.name=Reset a password (EntraSnow)^EQ',
    script: Now.include('../server/business-rules/send-password-reset.js'),
    description: 'Hands a password reset request to EntraSnow through the signed webhook.',
})
