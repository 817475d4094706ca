import '@servicenow/sdk/global'
import { BusinessRule } from '@servicenow/sdk/core'

// A member added to a sensitive group under remove-until-approved is taken out by EntraSnow at once, and a normal change
// waits in Authorize. The approver's decision goes back to EntraSnow, signed like the catalog webhooks.
BusinessRule({
    $id: Now.ID['send-change-decision'],
    name: 'EntraSnow: send change decision',
    table: 'change_request',
    when: 'async',
    action: ['update'],
    filterCondition: 'approvalCHANGESTOapproved^ORapprovalCHANGESTOrejected^correlation_idSTARTSWITHentra-group:^EQ',
    script: Now.include('../server/business-rules/send-change-decision.js'),
    description: 'Hands the approval or rejection of a change EntraSnow opened for a sensitive group to EntraSnow through the signed webhook.',
})
