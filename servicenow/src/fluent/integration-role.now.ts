import { Role } from '@servicenow/sdk/core'

// The role given to the account EntraSnow signs in as (OAuth client credentials). It carries the platform roles the
// always-on flow needs: users, groups and memberships. docs/servicenow.md lists what each optional flow adds.
export const integrationRole = Role({
    name: 'x_entrasnow.integration',
    description:
        'EntraSnow integration account: provisions sys_user, sys_user_group and sys_user_grmember from Entra ID. Add itil (incidents, change requests) or catalog fulfilment roles only for the flows you enable.',
    containsRoles: ['user_admin'],
    grantable: true,
})
