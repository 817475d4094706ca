namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// What the emulator knows of a table: its display field, reference fields, number prefix, the defaults a new record
/// gets, and every other field the table has (known to queries and writes, but not set on insert).
/// </summary>
internal sealed record TableSchema(
    string Name,
    string DisplayField,
    string? NumberPrefix,
    IReadOnlyDictionary<string, string> References,
    IReadOnlyDictionary<string, string> Defaults,
    IReadOnlyList<string> OtherFields)
{
    public bool IsReference(string field) => References.ContainsKey(field);

    /// <summary>Every field of the table but the system ones (sys_id, sys_created_on, …).</summary>
    public IEnumerable<string> Fields => Defaults.Keys.Concat(OtherFields).Distinct(StringComparer.Ordinal);
}

/// <summary>
/// The tables EntraSnow reads and writes, with the fields (a subset of a base instance's, covering what the product and
/// its ServiceNow app use) and references the Table API documents for them. Any other table name is not a table of
/// the emulated instance (400 "Invalid table"), unless Sandbox:ServiceNow:CustomFields names it as a custom table.
/// </summary>
internal static class ServiceNowTableSchemas
{
    // The task table's fields every task (incident, change, catalog item and task, problem) inherits.
    private static readonly string[] TaskFields =
    [
        "parent", "company", "location", "opened_at", "opened_by", "closed_at", "closed_by", "work_notes", "comments",
        "sys_class_name", "due_date", "watch_list", "work_notes_list", "contact_type", "escalation", "upon_approval",
        "upon_reject", "approval_set", "approval_history", "business_service", "cmdb_ci", "made_sla", "order", "time_worked",
        "work_start", "work_end", "reassignment_count", "sys_domain", "sys_tags", "expected_start", "activity_due",
        "additional_assignee_list", "follow_up", "knowledge", "group_list", "comments_and_work_notes", "sla_due",
        "delivery_plan", "delivery_task", "calendar_duration", "business_duration", "user_input",
    ];

    private static readonly Dictionary<string, TableSchema> Known = new(StringComparer.Ordinal)
    {
        ["sys_user"] = Schema("sys_user", "name", null,
            refs: new() { ["department"] = "cmn_department", ["location"] = "cmn_location", ["manager"] = "sys_user", ["company"] = "core_company" },
            fields: ["user_name", "first_name", "last_name", "name", "email", "title", "employee_number", "phone", "mobile_phone",
                "active=true", "locked_out=false", "web_service_access_only=false", "source", "department", "location", "manager"],
            others: ["middle_name", "company", "cost_center", "building", "street", "city", "state", "zip", "country", "home_phone",
                "gender", "time_zone", "preferred_language", "vip", "introduction", "notification", "password_needs_reset",
                "failed_attempts", "last_login", "last_login_time", "internal_integration_user", "sys_class_name", "sys_domain",
                "ldap_server", "schedule", "photo", "avatar", "date_format", "enable_multifactor_authn", "calendar_integration"]),
        ["sys_user_group"] = Schema("sys_user_group", "name", null,
            refs: new() { ["manager"] = "sys_user", ["parent"] = "sys_user_group" },
            fields: ["name", "description", "email", "type", "source", "active=true", "manager", "parent"],
            others: ["roles", "include_members", "exclude_manager", "default_assignee", "cost_center", "sys_domain"]),
        ["sys_user_grmember"] = Schema("sys_user_grmember", "sys_id", null,
            refs: new() { ["user"] = "sys_user", ["group"] = "sys_user_group" },
            fields: ["user", "group"]),
        ["sys_user_role"] = Schema("sys_user_role", "name", null,
            refs: [],
            fields: ["name", "description", "suffix", "elevated_privilege=false", "assignable_by", "can_delegate=true", "grantable=true"],
            others: ["includes_roles", "requires_subscription", "scoped_admin"]),
        ["sys_user_has_role"] = Schema("sys_user_has_role", "sys_id", null,
            refs: new() { ["user"] = "sys_user", ["role"] = "sys_user_role" },
            fields: ["user", "role", "state=active", "inherited=false"],
            others: ["granted_by", "included_in_role", "included_in_role_instance", "inh_count"]),
        ["cmn_department"] = Schema("cmn_department", "name", null,
            refs: new() { ["dept_head"] = "sys_user", ["parent"] = "cmn_department", ["location"] = "cmn_location", ["company"] = "core_company" },
            fields: ["name", "id", "description", "dept_head", "parent", "location"],
            others: ["company", "cost_center", "head_count", "primary_contact", "business_unit"]),
        ["cmn_location"] = Schema("cmn_location", "name", null,
            refs: new() { ["parent"] = "cmn_location", ["company"] = "core_company" },
            fields: ["name", "street", "city", "state", "zip", "country", "parent"],
            others: ["company", "full_name", "latitude", "longitude", "phone", "fax_phone", "contact", "time_zone", "lat_long_error"]),
        ["core_company"] = Schema("core_company", "name", null,
            refs: new() { ["parent"] = "core_company" },
            fields: ["name", "street", "city", "state", "zip", "country", "phone", "parent", "customer=false", "vendor=false", "manufacturer=false"],
            others: ["website", "stock_symbol", "notes", "contact"]),
        ["incident"] = Schema("incident", "number", "INC",
            refs: new() { ["caller_id"] = "sys_user", ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user", ["opened_by"] = "sys_user" },
            fields: ["number", "short_description", "description", "category", "subcategory", "impact=3", "urgency=3", "priority=5", "state=1",
                "active=true", "caller_id", "assignment_group", "assigned_to", "opened_by", "correlation_id", "correlation_display", "close_code", "close_notes"],
            others: [.. TaskFields, "resolved_at", "resolved_by", "incident_state", "severity", "notify", "problem_id", "rfc", "caused_by",
                "child_incidents", "parent_incident", "reopen_count", "hold_reason", "business_stc", "calendar_stc", "approval"]),
        ["sn_si_incident"] = Schema("sn_si_incident", "number", "SIR",
            refs: new() { ["affected_user"] = "sys_user", ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user", ["opened_by"] = "sys_user" },
            fields: ["number", "short_description", "description", "category", "subcategory", "impact=3", "urgency=3", "priority=5", "state=10",
                "active=true", "affected_user", "assignment_group", "assigned_to", "opened_by", "correlation_id", "correlation_display", "close_code", "close_notes"],
            others: [.. TaskFields, "resolved_at", "resolved_by", "substate", "risk", "risk_score", "severity", "business_criticality",
                "attack_vector", "confidentiality_impact", "contact_type", "approval"]),
        ["problem"] = Schema("problem", "number", "PRB",
            refs: new() { ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user", ["opened_by"] = "sys_user" },
            fields: ["number", "short_description", "description", "category", "subcategory", "impact=3", "urgency=3", "priority=5", "state=101",
                "active=true", "assignment_group", "assigned_to", "opened_by", "correlation_id", "correlation_display", "close_notes"],
            others: [.. TaskFields, "problem_state", "known_error", "cause_notes", "fix_notes", "workaround", "first_reported_by_task",
                "related_incidents", "resolved_at", "resolved_by", "resolution_code", "approval"]),
        ["change_request"] = Schema("change_request", "number", "CHG",
            refs: new() { ["requested_by"] = "sys_user", ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user" },
            fields: ["number", "short_description", "description", "type=normal", "category", "approval=not requested", "state=-5", "impact=3", "urgency=3", "priority=4", "risk=3",
                "active=true", "requested_by", "assignment_group", "assigned_to", "correlation_id", "correlation_display", "start_date", "end_date", "close_code", "close_notes"],
            others: [.. TaskFields, "reason", "justification", "implementation_plan", "backout_plan", "test_plan", "risk_impact_analysis",
                "phase", "phase_state", "cab_required", "cab_date", "cab_recommendation", "on_hold", "on_hold_reason", "chg_model",
                "conflict_status", "outside_maintenance_schedule", "production_system", "scope", "std_change_producer_version", "unauthorized"]),
        ["sc_request"] = Schema("sc_request", "number", "REQ",
            refs: new() { ["requested_for"] = "sys_user", ["opened_by"] = "sys_user" },
            fields: ["number", "short_description", "description", "state=1", "request_state=requested", "stage=requested", "approval=approved",
                "active=true", "requested_for", "opened_by"],
            others: [.. TaskFields, "price", "special_instructions", "delivery_address", "requested_date", "calendar_stc"]),
        ["sc_cat_item"] = Schema("sc_cat_item", "name", null,
            refs: [],
            fields: ["name", "short_description", "description", "active=true", "category", "price", "order"],
            others: ["sc_catalogs", "workflow", "flow_designer_flow", "roles", "model", "vendor", "type", "sys_class_name", "sys_scope"]),
        ["sc_req_item"] = Schema("sc_req_item", "number", "RITM",
            refs: new() { ["requested_for"] = "sys_user", ["request"] = "sc_request", ["cat_item"] = "sc_cat_item", ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user" },
            fields: ["number", "short_description", "description", "state=1", "stage=request_approved", "approval=approved", "active=true",
                "requested_for", "request", "cat_item", "assignment_group", "assigned_to", "correlation_id"],
            // variables: the catalog item's questions, read by dot-walking (variables.group).
            others: [.. TaskFields, "variables", "correlation_display", "close_notes", "impact", "urgency", "priority", "quantity", "price",
                "recurring_price", "backordered", "configuration_item", "context", "estimated_delivery", "order_guide"]),
        ["sc_task"] = Schema("sc_task", "number", "SCTASK",
            refs: new() { ["request_item"] = "sc_req_item", ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user" },
            fields: ["number", "short_description", "description", "state=1", "active=true", "approval=not requested", "request_item", "assignment_group", "assigned_to", "correlation_id", "close_notes"],
            others: [.. TaskFields, "variables", "correlation_display", "request", "sc_catalog", "impact", "urgency", "priority", "calendar_stc"]),
        ["sys_journal_field"] = Schema("sys_journal_field", "sys_id", null,
            refs: [],
            fields: ["element", "element_id", "name", "value"]),
        ["sysapproval_approver"] = Schema("sysapproval_approver", "sys_id", null,
            refs: new() { ["approver"] = "sys_user", ["sysapproval"] = "task", ["group"] = "sysapproval_group" },
            fields: ["approver", "sysapproval", "document_id", "source_table", "state=requested", "comments"],
            others: ["group", "due_date", "expected_start", "approval_source", "wf_activity", "approval_column", "approval_journal_column", "iteration", "order"]),
    };

    /// <summary>The tables the emulator documents (what sys_dictionary lists).</summary>
    public static IEnumerable<string> KnownTables => Known.Keys;

    public static bool IsKnown(string table) => Known.ContainsKey(table);

    /// <summary>The table's schema; a table the emulator does not document (a custom table) has no fields of its own.</summary>
    public static TableSchema For(string table) =>
        Known.TryGetValue(table, out var schema)
            ? schema
            : new TableSchema(table, "sys_id", null, new Dictionary<string, string>(), new Dictionary<string, string>(), []);

    private static TableSchema Schema(string name, string display, string? prefix, Dictionary<string, string> refs, string[] fields, string[]? others = null)
    {
        var defaults = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            var eq = field.IndexOf('=', StringComparison.Ordinal);
            defaults[eq < 0 ? field : field[..eq]] = eq < 0 ? string.Empty : field[(eq + 1)..];
        }

        return new TableSchema(name, display, prefix, refs, defaults, others ?? []);
    }
}
