import { StringColumn, Table } from '@servicenow/sdk/core'

// EntraSnow matches every user and group on its Entra object id (a GUID), so a renamed UPN or group never creates a
// duplicate. A scoped app may only add columns named with its scope to sys_user and sys_user_group (the platform's
// rule, which the SDK's build enforces), so the field is x_entrasnow_entra_object_id rather than EntraSnow's default
// u_entra_object_id: set Provisioning:ObjectIdField=x_entrasnow_entra_object_id (docs/servicenow.md).
export const sys_user = Table({
    augments: 'sys_user',
    schema: {
        x_entrasnow_entra_object_id: StringColumn({
            label: 'Entra object id',
            maxLength: 40,
        }),
    },
})

export const sys_user_group = Table({
    augments: 'sys_user_group',
    schema: {
        x_entrasnow_entra_object_id: StringColumn({
            label: 'Entra object id',
            maxLength: 40,
        }),
    },
})
