using EntraSnow.Connectors.Graph;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Provisioning;

/// <summary>Decides whether a user belongs in ServiceNow: attribute rules, then group assignment.</summary>
internal sealed class UserScope(IDirectory directory, IOptions<ProvisioningOptions> options)
{
    /// <summary>Null when the user is in scope; otherwise the reason, as an operator would want to read it.</summary>
    public async Task<string?> OutOfScopeReasonAsync(DirectoryUser user, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        foreach (var rule in settings.ScopeRules)
        {
            var actual = user.Attribute(rule.Attribute);
            if (!string.Equals(actual ?? string.Empty, rule.Value, StringComparison.OrdinalIgnoreCase))
            {
                return $"out of scope: {rule.Attribute} is '{actual}', the rule wants '{rule.Value}'";
            }
        }

        if (settings.ScopeGroupIds.Count > 0)
        {
            var groups = await directory.GetUserGroupIdsAsync(user.Id, cancellationToken);
            if (!groups.Any(g => settings.ScopeGroupIds.Contains(g, StringComparer.OrdinalIgnoreCase)))
            {
                return "out of scope: not a direct member of any assigned group";
            }
        }

        return null;
    }
}
