using System.Text.Json;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.AccessRequests;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Flows.PasswordReset;
using EntraSnow.Flows.Risk;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Cli.Preflight;

/// <summary>One Graph application permission a flow needs (infra/graph-permissions.json).</summary>
internal sealed record GraphPermissionNeed(string Role, string Flow, string UsedFor);

/// <summary>
/// The doctor's Graph permission check: the app roles the enabled flows need (infra/graph-permissions.json, the list the
/// deployment grants from, embedded in this build) against the <c>roles</c> claim of a fresh token, which is what
/// Graph judges each call by.
/// </summary>
internal sealed class GraphPermissionsCheck(IServiceProvider services)
{
    private const string ResourceName = "EntraSnow.graph-permissions.json";

    /// <summary>What the enabled flows need, one entry per permission and flow.</summary>
    public IReadOnlyList<GraphPermissionNeed> Needed()
    {
        using var stream = typeof(GraphPermissionsCheck).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded in this build.");
        using var document = JsonDocument.Parse(stream);
        var needs = new List<GraphPermissionNeed>();
        foreach (var permission in document.RootElement.GetProperty("permissions").EnumerateArray())
        {
            var applies = !permission.TryGetProperty("grantedWhen", out var when)
                || when.EnumerateObject().All(s => string.Equals(SwitchValue(s.Name), s.Value.GetString(), StringComparison.OrdinalIgnoreCase));
            if (applies)
            {
                needs.Add(new GraphPermissionNeed(permission.GetProperty("name").GetString()!, permission.GetProperty("flow").GetString()!, permission.GetProperty("usedFor").GetString()!));
            }
        }

        return needs;
    }

    /// <summary>One line's detail: what the token grants of what is needed; throws naming what is missing.</summary>
    public async Task<string> CheckAsync(CancellationToken cancellationToken = default)
    {
        var needed = Needed();
        var granted = await services.GetRequiredService<GraphAppCredential>().GrantedRolesAsync(cancellationToken)
            ?? throw new InvalidOperationException("the token is not a JWT, so its roles claim cannot be read; check the grants in the Entra admin center (Enterprise applications → Permissions)");
        var missing = needed.Where(n => !granted.Contains(n.Role, StringComparer.OrdinalIgnoreCase)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"the token lacks {string.Join("; ", missing.GroupBy(m => m.Role).Select(g => $"{g.Key} ({string.Join(", ", g.Select(m => m.Flow))}: {g.First().UsedFor})"))}. " +
                "Grant the application permission with admin consent (in Azure: the azd switch for the flow, then `azd provision`; docs/deploy.md)");
        }

        var unused = granted.Where(r => !needed.Any(n => string.Equals(n.Role, r, StringComparison.OrdinalIgnoreCase))).Order(StringComparer.Ordinal).ToList();
        var roles = needed.Select(n => n.Role).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return $"{roles.Count} needed by the enabled flows, all granted ({string.Join(", ", roles)})"
            + (unused.Count > 0 ? $"; also granted, not needed: {string.Join(", ", unused)}" : string.Empty);
    }

    /// <summary>The value a deployment switch of graph-permissions.json has in this configuration.</summary>
    private string SwitchValue(string name) => name switch
    {
        "ACCESS_REQUESTS_ENABLED" => Flag(Options<AccessRequestOptions>() is { } a && (a.AllowedGroupIds.Count > 0 || !string.IsNullOrWhiteSpace(a.AllowedGroupNamePrefix))),
        "REMOVE_UNTIL_APPROVED_ENABLED" => Flag(Options<GroupChangeOptions>() is { } g
            && (g.SensitiveGroups.Any(s => s.Policy == SensitiveGroupPolicies.RemoveUntilApproved)
                || (g.TreatRoleAssignableAsSensitive && g.RoleAssignablePolicy == SensitiveGroupPolicies.RemoveUntilApproved))),
        "INACTIVE_SWEEP_ENABLED" => Flag(Options<InactiveSweepOptions>()?.Enabled == true),
        "INACTIVE_SWEEP_DISABLE_ACCOUNTS" => Flag(Options<InactiveSweepOptions>()?.DisableAccounts == true),
        "PASSWORD_RESET_ENABLED" => Flag(!string.IsNullOrWhiteSpace(Options<PasswordResetOptions>()?.SendFrom)),
        "PASSWORD_RESET_METHOD" => (Options<PasswordResetOptions>()?.Method ?? ResetMethod.TemporaryAccessPass).ToString(),
        "PASSWORD_RESET_REVOKE_SESSIONS" => Flag(Options<PasswordResetOptions>()?.RevokeSessions == true),
        "RISK_ENABLED" => Flag(Options<RiskOptions>()?.Enabled != false),
        "RISK_REVOKE_SESSIONS_ON_HIGH_RISK" => Flag(Options<RiskIncidentOptions>()?.RevokeSessionsOnHighRisk == true),
        _ => throw new InvalidOperationException($"graph-permissions.json names a switch the doctor does not know ({name})"),
    };

    private T? Options<T>() where T : class => services.GetService<IOptions<T>>()?.Value;

    private static string Flag(bool on) => on ? "true" : "false";
}
