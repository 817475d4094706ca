using EntraSnow.LocalHost.Hosting;

namespace EntraSnow.LocalHost.StatusPage;

/// <summary>One link to an emulator's data, for the status page in sandbox mode.</summary>
public sealed record SandboxLink(string Emulator, string Title, string Path);

/// <summary>
/// Where to look at the emulators' data. ServiceNow's tables ask for the sandbox account (the browser prompts for it:
/// the console banner says what it is, the page never holds it); the Graph emulator's admin routes need none.
/// </summary>
public static class SandboxLinks
{
    private static readonly (string Table, string Title, string Fields)[] ServiceNowTables =
    [
        ("sys_user", "users", "user_name,name,email,department,active,locked_out,u_entra_object_id"),
        ("sys_user_group", "groups", "name,description,u_entra_object_id"),
        ("sys_user_grmember", "group members", "user,group"),
        ("change_request", "change records (membership changes)", "number,short_description,state,approval,correlation_id"),
        ("incident", "incidents (risk detections)", "number,short_description,impact,urgency,state,correlation_id"),
        ("sc_task", "tasks (reviews, conflicts)", "number,short_description,state,approval,correlation_id"),
    ];

    public static IReadOnlyList<SandboxLink> For(SandboxMode sandbox)
    {
        var links = new List<SandboxLink>();
        if (sandbox.Graph)
        {
            links.Add(new("Graph", "change notifications sent to EntraSnow", $"{SandboxMode.GraphPrefix}/admin/deliveries"));
            links.Add(new("Graph", "requests served", $"{SandboxMode.GraphPrefix}/admin/stats"));
        }

        if (sandbox.ServiceNow)
        {
            links.AddRange(ServiceNowTables.Select(t => new SandboxLink("ServiceNow", t.Title,
                $"{SandboxMode.ServiceNowPrefix}/api/now/table/{t.Table}?sysparm_limit=100&sysparm_fields={t.Fields}")));
            links.Add(new("ServiceNow", "requests served", $"{SandboxMode.ServiceNowPrefix}/sandbox-admin/counters"));
        }

        return links;
    }
}
