using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.AccessRequests;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Flows.PasswordReset;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.Risk;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Cli.Preflight;

/// <summary>A table the enabled flows use, whether they write it, and which flows.</summary>
internal sealed record ServiceNowTableUse(string Table, bool Writes, IReadOnlyList<string> Flows);

/// <summary>
/// The doctor's ServiceNow rights check, one line per table the enabled flows use. Reading is tried (a GET with
/// sysparm_limit=1). Writing is judged without writing: the integration user's own roles (sys_user_has_role where
/// user is <c>javascript:gs.getUserID()</c>) against the role a base instance's ACL asks for the table; the instance's
/// own ACL rules are not evaluated, and the line says so.
/// </summary>
internal sealed class ServiceNowTableAccessCheck(IServiceProvider services)
{
    /// <summary>The role a base instance's table ACLs ask of a writer (admin passes them all).</summary>
    private static readonly Dictionary<string, string> BaseWriteRoles = new(StringComparer.Ordinal)
    {
        ["sys_user"] = "user_admin",
        ["sys_user_group"] = "user_admin",
        ["sys_user_grmember"] = "user_admin",
        ["incident"] = "itil",
        ["change_request"] = "itil",
        ["sc_task"] = "itil",
        ["sc_req_item"] = "itil",
        ["sn_si_incident"] = "sn_si.analyst",
    };

    private IServiceNowTable Table => services.GetRequiredService<IServiceNowTable>();

    /// <summary>The tables the enabled flows use, in the order the flows run.</summary>
    public IReadOnlyList<ServiceNowTableUse> Uses()
    {
        var uses = new List<(string Table, bool Writes, string Flow)>();
        void Use(string table, bool writes, string flow) => uses.Add((table, writes, flow));

        var provisioning = Options<ProvisioningOptions>() ?? new ProvisioningOptions();
        Use("sys_dictionary", false, "provisioning");
        Use("sys_user", true, "provisioning");
        foreach (var mapping in provisioning.EffectiveMappings().Values.Where(m => !string.IsNullOrEmpty(m.ReferenceTable)))
        {
            Use(mapping.ReferenceTable!, mapping.OnMissingReference == MissingReferencePolicy.Create, "provisioning");
        }

        Use("sys_user_group", true, "provisioning");
        Use("sys_user_grmember", true, "provisioning");
        foreach (var (record, flow) in new[] { (provisioning.Onboarding, "onboarding"), (provisioning.Offboarding, "offboarding"), (provisioning.Adoption.ConflictTask, "adoption conflicts") })
        {
            if (record.Enabled)
            {
                Use(record.Table, true, flow);
            }
        }

        var groups = Options<GroupChangeOptions>() ?? new GroupChangeOptions();
        if (groups.RecordChanges)
        {
            Use("change_request", true, "group change records");
        }

        if (groups.SensitiveGroups.Any(s => s.Policy == SensitiveGroupPolicies.RemoveUntilApproved)
            || (groups.TreatRoleAssignableAsSensitive && groups.RoleAssignablePolicy == SensitiveGroupPolicies.RemoveUntilApproved))
        {
            Use("sysapproval_approver", false, "sensitive groups");
            Use("sys_journal_field", false, "sensitive groups");
        }

        if (Options<RiskOptions>()?.Enabled != false)
        {
            Use((Options<RiskIncidentOptions>() ?? new RiskIncidentOptions()).Table, true, "risk incidents");
            Use("sys_journal_field", false, "risk incidents");
        }

        if (Options<InactiveSweepOptions>() is { Enabled: true } sweep)
        {
            Use(sweep.Table, true, "inactive sweep");
        }

        var access = Options<AccessRequestOptions>();
        var reset = Options<PasswordResetOptions>();
        if ((access is not null && (access.AllowedGroupIds.Count > 0 || !string.IsNullOrWhiteSpace(access.AllowedGroupNamePrefix)))
            || !string.IsNullOrWhiteSpace(reset?.SendFrom))
        {
            Use("sc_task", true, "catalog requests");
            Use("sys_user_role", false, "catalog requests");
            Use("sys_user_has_role", false, "catalog requests");
        }

        return [.. uses.GroupBy(u => u.Table, StringComparer.Ordinal)
            .Select(g => new ServiceNowTableUse(g.Key, g.Any(u => u.Writes), [.. g.Select(u => u.Flow).Distinct(StringComparer.Ordinal)]))];
    }

    /// <summary>The integration user's roles, or why they could not be read.</summary>
    public async Task<(IReadOnlyList<string>? Roles, string? Unreadable)> RolesAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var roles = new List<string>();
            await foreach (var row in Table.QueryAsync("sys_user_has_role", EncodedQuery.Where("user", "javascript:gs.getUserID()"), ["role.name"], cancellationToken))
            {
                if (row["role.name"] is { Length: > 0 } name)
                {
                    roles.Add(name);
                }
            }

            return roles.Count == 0
                ? (null, "no roles readable for the integration user (sys_user_has_role where user is the caller answered none)")
                : (roles, null);
        }
        catch (ServiceNowException ex)
        {
            return (null, $"the integration user cannot read its roles (sys_user_has_role: {ex.Message})");
        }
    }

    /// <summary>One line's detail for a table; throws saying what is refused.</summary>
    public async Task<string> CheckAsync(ServiceNowTableUse use, (IReadOnlyList<string>? Roles, string? Unreadable) roles, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.FindAsync(use.Table, EncodedQuery.All, ["sys_id"], cancellationToken);
        }
        catch (ServiceNowForbiddenException ex)
        {
            throw new InvalidOperationException($"reading is refused (an ACL: {ex.Message})", ex);
        }
        catch (ServiceNowException ex) when (ex.StatusCode == 400)
        {
            throw new InvalidOperationException($"the instance has no table {use.Table} ({ex.Message})", ex);
        }

        if (!use.Writes)
        {
            return "read ok (GET sysparm_limit=1)";
        }

        return $"read ok (GET sysparm_limit=1); write: {WriteVerdict(use.Table, roles)}";
    }

    private static string WriteVerdict(string table, (IReadOnlyList<string>? Roles, string? Unreadable) roles)
    {
        if (roles.Roles is not { } held)
        {
            return $"not checked: {roles.Unreadable}";
        }

        if (held.Contains("admin", StringComparer.Ordinal))
        {
            return "the integration user holds admin (passes every ACL)";
        }

        if (!BaseWriteRoles.TryGetValue(table, out var needed))
        {
            return $"not checked (no base-instance role known for {table}; roles held: {string.Join(", ", held)})";
        }

        return held.Contains(needed, StringComparer.Ordinal)
            ? $"the integration user holds {needed}, which a base instance's ACL asks of writers (this instance's own ACL rules were not evaluated)"
            : throw new InvalidOperationException(
                $"read ok, but writing needs {needed} on a base instance and the integration user holds only {string.Join(", ", held)} (this instance's own ACL rules were not evaluated): grant {needed} or admin to the integration user");
    }

    private T? Options<T>() where T : class => services.GetService<IOptions<T>>()?.Value;
}
