import '@servicenow/sdk/global'

declare global {
    namespace Now {
        namespace Internal {
            interface Keys extends KeysRegistry {
                explicit: {
                    'access-request-item': {
                        table: 'sc_cat_item'
                        id: '8230e62667914743a7f0b644fc51ab58'
                    }
                    bom_json: {
                        table: 'sys_module'
                        id: '1671e955a6a543178fe0a99ba7cd38c2'
                    }
                    'entrasnow-signing-secret': {
                        table: 'sys_properties'
                        id: 'c5ffef3a76374d8898cbf2b6a73cbcc1'
                    }
                    'entrasnow-timeout': {
                        table: 'sys_properties'
                        id: '7d14634721554e0f9c10431283806430'
                    }
                    'entrasnow-url': {
                        table: 'sys_properties'
                        id: 'abe17f7e60b0495a970a0b46fd61e913'
                    }
                    EntraSnowWebhook: {
                        table: 'sys_script_include'
                        id: '007a1707d48140918d8bde490363ad86'
                    }
                    package_json: {
                        table: 'sys_module'
                        id: 'd32f03387e584d75a532d4e71cca80f6'
                    }
                    'password-reset-item': {
                        table: 'sc_cat_item'
                        id: 'ce870297c3cb465ca96b992dd106dea8'
                    }
                    'send-access-request': {
                        table: 'sys_script'
                        id: 'c64ecf3215d74ac3abe8b1c046644d7a'
                    }
                    'send-change-decision': {
                        table: 'sys_script'
                        id: '91d0dffa6b834e2e93806563cc9b87e6'
                    }
                    'send-password-reset': {
                        table: 'sys_script'
                        id: '8de768f7c987459aadbcb4b50e101991'
                    }
                    'src_server_business-rules_send-access-request_js': {
                        table: 'sys_module'
                        id: '7776f5907e2744cf83487f4c41bd1c72'
                    }
                    'src_server_business-rules_send-change-decision_js': {
                        table: 'sys_module'
                        id: '05b15b73d688477386b850ca7fa42a94'
                    }
                    'src_server_business-rules_send-password-reset_js': {
                        table: 'sys_module'
                        id: '3bc4421ee3324bdfbb821f5c7f82628d'
                    }
                    'src_server_script-includes_entrasnow-webhook_js': {
                        table: 'sys_module'
                        id: 'd39f774b804b4de5b937899d6fb971f1'
                    }
                }
                composite: [
                    {
                        table: 'sc_cat_item_catalog'
                        id: '0125e96f2fdf4e58b33dd358ef23a474'
                        key: {
                            sc_cat_item: '8230e62667914743a7f0b644fc51ab58'
                            sc_catalog: 'e0d08b13c3330100c8b837659bba8fb4'
                        }
                    },
                    {
                        table: 'sys_user_role'
                        id: '08d9905687dd48afa9c45c9398ebfe82'
                        key: {
                            name: 'x_entrasnow.integration'
                        }
                    },
                    {
                        table: 'sys_documentation'
                        id: '1317ab8576004a1381662bad9afb8680'
                        key: {
                            name: 'sys_user'
                            element: 'x_entrasnow_entra_object_id'
                            language: 'en'
                        }
                    },
                    {
                        table: 'sys_db_object'
                        id: '15974b71746345ec94ca8e5f63899278'
                        key: {
                            name: 'sys_user'
                        }
                    },
                    {
                        table: 'question_choice'
                        id: '1a3fee37fd164709a1e0c025ec929ebe'
                        key: {
                            question: {
                                id: '6ef02a4f365a462fa9974d83e22094d8'
                                key: {
                                    cat_item: '8230e62667914743a7f0b644fc51ab58'
                                    variable_set: 'NULL'
                                    name: 'action'
                                }
                            }
                            value: 'remove'
                        }
                    },
                    {
                        table: 'sys_dictionary'
                        id: '2b847f52b7d1433295f044823142b9cb'
                        key: {
                            name: 'sys_user_group'
                            element: 'x_entrasnow_entra_object_id'
                        }
                    },
                    {
                        table: 'question_choice'
                        id: '3b37d2d5c864434ab0d69b5baa24563a'
                        key: {
                            question: {
                                id: '6ef02a4f365a462fa9974d83e22094d8'
                                key: {
                                    cat_item: '8230e62667914743a7f0b644fc51ab58'
                                    variable_set: 'NULL'
                                    name: 'action'
                                }
                            }
                            value: 'add'
                        }
                    },
                    {
                        table: 'sys_db_object'
                        id: '3f94dd0da824465dae4396d07904c7c1'
                        key: {
                            name: 'sys_user_group'
                        }
                    },
                    {
                        table: 'sys_dictionary'
                        id: '4c3a00badc1144dda7603e6243939831'
                        key: {
                            name: 'sys_user'
                            element: 'x_entrasnow_entra_object_id'
                        }
                    },
                    {
                        table: 'ua_table_licensing_config'
                        id: '57861d8b1e75416997e21976df8d4fbc'
                        key: {
                            name: 'sys_user'
                        }
                    },
                    {
                        table: 'sys_user_role_contains'
                        id: '5f7817043a524b3588c3d5fd56b3ae59'
                        key: {
                            role: {
                                id: '08d9905687dd48afa9c45c9398ebfe82'
                                key: {
                                    name: 'x_entrasnow.integration'
                                }
                            }
                            contains: {
                                id: '63c639b6800f4006b4f06d51c9e1e455'
                                key: {
                                    name: 'user_admin'
                                }
                            }
                        }
                    },
                    {
                        table: 'sys_documentation'
                        id: '62ca7d1097d54d40b6e1fbe75c41cf15'
                        key: {
                            name: 'sys_user_group'
                            element: 'NULL'
                            language: 'en'
                        }
                    },
                    {
                        table: 'item_option_new'
                        id: '6ef02a4f365a462fa9974d83e22094d8'
                        key: {
                            cat_item: '8230e62667914743a7f0b644fc51ab58'
                            variable_set: 'NULL'
                            name: 'action'
                        }
                    },
                    {
                        table: 'sc_cat_item_catalog'
                        id: '8fec70b24cc347ea9b1e36bcbfd63c7f'
                        key: {
                            sc_cat_item: 'ce870297c3cb465ca96b992dd106dea8'
                            sc_catalog: 'e0d08b13c3330100c8b837659bba8fb4'
                        }
                    },
                    {
                        table: 'item_option_new'
                        id: '93ed0b2f65a84fb3b3fe71cd3989e9ed'
                        key: {
                            cat_item: '8230e62667914743a7f0b644fc51ab58'
                            variable_set: 'NULL'
                            name: 'requested_for'
                        }
                    },
                    {
                        table: 'item_option_new'
                        id: '9e2135fc6b6b4794b027eb42f240ff0a'
                        key: {
                            cat_item: '8230e62667914743a7f0b644fc51ab58'
                            variable_set: 'NULL'
                            name: 'group'
                        }
                    },
                    {
                        table: 'item_option_new'
                        id: 'a2556f43284b4088abf7f092cbd8853e'
                        key: {
                            cat_item: 'ce870297c3cb465ca96b992dd106dea8'
                            variable_set: 'NULL'
                            name: 'reason'
                        }
                    },
                    {
                        table: 'sys_documentation'
                        id: 'a255988c8f494e77a7fd25178acf1ddf'
                        key: {
                            name: 'sys_user_group'
                            element: 'x_entrasnow_entra_object_id'
                            language: 'en'
                        }
                    },
                    {
                        table: 'item_option_new'
                        id: 'aa11c5de4406465bac33cde4775b9ec6'
                        key: {
                            cat_item: 'ce870297c3cb465ca96b992dd106dea8'
                            variable_set: 'NULL'
                            name: 'requested_for'
                        }
                    },
                    {
                        table: 'item_option_new'
                        id: 'e980cc495a224e9f87f673d762cf3f36'
                        key: {
                            cat_item: '8230e62667914743a7f0b644fc51ab58'
                            variable_set: 'NULL'
                            name: 'justification'
                        }
                    },
                    {
                        table: 'ua_table_licensing_config'
                        id: 'f1cfcd66ae544431ad2d0c0263114596'
                        key: {
                            name: 'sys_user_group'
                        }
                    },
                    {
                        table: 'sys_documentation'
                        id: 'fbfbf90409e64ec0a702ab0a0b58a6a1'
                        key: {
                            name: 'sys_user'
                            element: 'NULL'
                            language: 'en'
                        }
                    },
                ]
            }
        }
    }
}
