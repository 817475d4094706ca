namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// Task records' state stamps, as ServiceNow's business rules set them: opened_at on insert, resolved_at when an
/// incident is resolved, closed_at and active=false when it is closed or cancelled.
/// </summary>
public sealed partial class ServiceNowEmulatorStore
{
    private static readonly HashSet<string> TaskTables = new(StringComparer.Ordinal)
    {
        "incident", "sn_si_incident", "problem", "change_request", "sc_req_item", "sc_task",
    };

    /// <summary>opened_at on insert; resolved_at on resolve; closed_at and active=false on close or cancel (incident, security incident, change and catalog task states).</summary>
    private void StampTaskState(string table, Dictionary<string, string> values, IReadOnlyDictionary<string, string> written, bool inserted, string user)
    {
        if (!TaskTables.Contains(table))
        {
            return;
        }

        var now = Now();
        if (inserted && string.IsNullOrEmpty(values.GetValueOrDefault("opened_at")))
        {
            values["opened_at"] = now;
        }

        if (!written.TryGetValue("state", out var state))
        {
            return;
        }

        var (resolved, closed) = table switch
        {
            "incident" => (state == "6", state is "7" or "8"),
            "sn_si_incident" => (false, state is "3" or "7"),
            "change_request" => (false, state is "3" or "4"),
            "sc_task" => (false, state is "3" or "4" or "7"),
            _ => (false, false),
        };
        if (resolved)
        {
            values["resolved_at"] = now;
            values["resolved_by"] = user;
        }

        if (closed)
        {
            values["closed_at"] = now;
            values["active"] = "false";
        }
    }
}
