namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>What the emulator knows of a table: its display field, reference fields, number prefix and defaults.</summary>
internal sealed record TableSchema(
    string Name,
    string DisplayField,
    string? NumberPrefix,
    IReadOnlyDictionary<string, string> References,
    IReadOnlyDictionary<string, string> Defaults)
{
    public bool IsReference(string field) => References.ContainsKey(field);
}

/// <summary>
/// The tables EntraSnow writes, with the fields and references the Table API documents for them. Any other table name
/// is accepted too, schemaless, as a scoped or custom table would be.
/// </summary>
internal static class ServiceNowTableSchemas
{
    private static readonly Dictionary<string, TableSchema> Known = new(StringComparer.Ordinal)
    {
        ["sys_user"] = Schema("sys_user", "name", null,
            refs: new() { ["department"] = "cmn_department", ["location"] = "cmn_location", ["manager"] = "sys_user" },
            fields: ["user_name", "first_name", "last_name", "name", "email", "title", "employee_number", "phone", "mobile_phone",
                "active=true", "locked_out=false", "web_service_access_only=false", "source", "department", "location", "manager"]),
        ["sys_user_group"] = Schema("sys_user_group", "name", null,
            refs: new() { ["manager"] = "sys_user", ["parent"] = "sys_user_group" },
            fields: ["name", "description", "email", "type", "source", "active=true", "manager", "parent"]),
        ["sys_user_grmember"] = Schema("sys_user_grmember", "sys_id", null,
            refs: new() { ["user"] = "sys_user", ["group"] = "sys_user_group" },
            fields: ["user", "group"]),
        ["cmn_department"] = Schema("cmn_department", "name", null,
            refs: new() { ["dept_head"] = "sys_user", ["parent"] = "cmn_department", ["location"] = "cmn_location" },
            fields: ["name", "id", "description", "dept_head", "parent", "location"]),
        ["cmn_location"] = Schema("cmn_location", "name", null,
            refs: new() { ["parent"] = "cmn_location" },
            fields: ["name", "street", "city", "state", "zip", "country", "parent"]),
        ["incident"] = Schema("incident", "number", "INC",
            refs: new() { ["caller_id"] = "sys_user", ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user", ["opened_by"] = "sys_user" },
            fields: ["number", "short_description", "description", "category", "subcategory", "impact=3", "urgency=3", "priority=5", "state=1",
                "active=true", "caller_id", "assignment_group", "assigned_to", "opened_by", "correlation_id", "correlation_display", "close_code", "close_notes"]),
        ["sn_si_incident"] = Schema("sn_si_incident", "number", "SIR",
            refs: new() { ["affected_user"] = "sys_user", ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user", ["opened_by"] = "sys_user" },
            fields: ["number", "short_description", "description", "category", "subcategory", "impact=3", "urgency=3", "priority=5", "state=10",
                "active=true", "affected_user", "assignment_group", "assigned_to", "opened_by", "correlation_id", "correlation_display", "close_code", "close_notes"]),
        ["change_request"] = Schema("change_request", "number", "CHG",
            refs: new() { ["requested_by"] = "sys_user", ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user" },
            fields: ["number", "short_description", "description", "type=normal", "category", "approval=not requested", "state=-5", "impact=3", "urgency=3", "priority=4", "risk=3",
                "active=true", "requested_by", "assignment_group", "assigned_to", "correlation_id", "correlation_display", "start_date", "end_date", "close_code", "close_notes"]),
        ["sc_req_item"] = Schema("sc_req_item", "number", "RITM",
            refs: new() { ["requested_for"] = "sys_user", ["request"] = "sc_request", ["cat_item"] = "sc_cat_item", ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user" },
            fields: ["number", "short_description", "description", "state=1", "stage=request_approved", "approval=approved", "active=true",
                "requested_for", "request", "cat_item", "assignment_group", "assigned_to", "correlation_id"]),
        ["sc_task"] = Schema("sc_task", "number", "SCTASK",
            refs: new() { ["request_item"] = "sc_req_item", ["assignment_group"] = "sys_user_group", ["assigned_to"] = "sys_user" },
            fields: ["number", "short_description", "description", "state=1", "active=true", "approval=not requested", "request_item", "assignment_group", "assigned_to", "correlation_id", "close_notes"]),
    };

    /// <summary>The tables the emulator documents (what sys_dictionary lists).</summary>
    public static IEnumerable<string> KnownTables => Known.Keys;

    public static TableSchema For(string table) =>
        Known.TryGetValue(table, out var schema)
            ? schema
            : new TableSchema(table, "sys_id", null, new Dictionary<string, string>(), new Dictionary<string, string>());

    private static TableSchema Schema(string name, string display, string? prefix, Dictionary<string, string> refs, string[] fields)
    {
        var defaults = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            var eq = field.IndexOf('=', StringComparison.Ordinal);
            defaults[eq < 0 ? field : field[..eq]] = eq < 0 ? string.Empty : field[(eq + 1)..];
        }

        return new TableSchema(name, display, prefix, refs, defaults);
    }
}
