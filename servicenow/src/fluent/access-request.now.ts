import '@servicenow/sdk/global'
import {
    BusinessRule,
    CatalogItem,
    MultiLineTextVariable,
    ReferenceVariable,
    RequestedForVariable,
    SelectBoxVariable,
} from '@servicenow/sdk/core'

export const accessRequest = CatalogItem({
    $id: Now.ID['access-request-item'],
    name: 'Request group access (EntraSnow)',
    shortDescription: 'Join or leave a Microsoft Entra ID group',
    description:
        'Once approved, EntraSnow adds or removes the member in Entra ID (only for groups on its allow-list) and writes the outcome on this request.',
    // The platform's Service Catalog (sc_catalog), the same sys_id on every instance.
    catalogs: ['e0d08b13c3330100c8b837659bba8fb4'],
    variables: {
        requested_for: RequestedForVariable({
            question: 'For whom?',
            mandatory: true,
            order: 100,
        }),
        group: ReferenceVariable({
            question: 'Group',
            referenceTable: 'sys_user_group',
            // Only groups that come from Entra ID (EntraSnow fills the field when it provisions them).
            referenceQualCondition: 'active=true^x_entrasnow_entra_object_idISNOTEMPTY^EQ',
            mandatory: true,
            order: 200,
        }),
        action: SelectBoxVariable({
            question: 'Add or remove?',
            choices: {
                add: { label: 'Add to the group', sequence: 1 },
                remove: { label: 'Remove from the group', sequence: 2 },
            },
            defaultValue: 'add',
            mandatory: true,
            order: 300,
        }),
        justification: MultiLineTextVariable({
            question: 'Business justification',
            mandatory: true,
            order: 400,
        }),
    },
    fulfillmentAutomationLevel: 'fullyAutomated',
    requestMethod: 'request',
    hideAddToCart: true,
    noQuantity: true,
})

BusinessRule({
    $id: Now.ID['send-access-request'],
    name: 'EntraSnow: send approved access request',
    table: 'sc_req_item',
    when: 'async',
    action: ['update'],
    filterCondition: 'approvalCHANGESTOapproved^cat_item.name=Request group access (EntraSnow)^EQ',
    script: Now.include('../server/business-rules/send-access-request.js'),
    description: 'Hands an approved group access request to EntraSnow through the signed webhook.',
})
