using System.Collections.Concurrent;
using EntraSnow.Connectors.Graph;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// What a group's membership changes set off: the policy it is listed with in <c>GroupChanges:SensitiveGroups</c>, else,
/// with <c>GroupChanges:TreatRoleAssignableAsSensitive</c>, <c>GroupChanges:RoleAssignablePolicy</c> for a role-assignable
/// group, else <see cref="SensitiveGroupPolicies.Record"/>. Whether a group is role-assignable is set when it is created and
/// never changes, so Graph is asked once per group for the life of the process, and only while the setting is on.
/// </summary>
internal sealed class SensitiveGroupPolicy(IDirectory directory, IOptions<GroupChangeOptions> options)
{
    private readonly ConcurrentDictionary<string, bool> _roleAssignable = new(StringComparer.OrdinalIgnoreCase);

    public async Task<string> PolicyOfAsync(DirectoryGroup group, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.SensitiveGroups.Any(g => string.Equals(g.GroupId, group.Id, StringComparison.OrdinalIgnoreCase)) || !settings.TreatRoleAssignableAsSensitive)
        {
            return settings.PolicyOf(group.Id);
        }

        return await IsRoleAssignableAsync(group, cancellationToken) ? settings.RoleAssignablePolicy.ToLowerInvariant() : SensitiveGroupPolicies.Record;
    }

    /// <summary>From the delta when it carries the property (a group's first reading), else from the group itself (a delta of members only does not).</summary>
    private async Task<bool> IsRoleAssignableAsync(DirectoryGroup group, CancellationToken cancellationToken)
    {
        if (group.IsAssignableToRole is { } known)
        {
            return _roleAssignable[group.Id] = known;
        }

        if (_roleAssignable.TryGetValue(group.Id, out var remembered))
        {
            return remembered;
        }

        var read = await directory.GetGroupAsync(group.Id, cancellationToken);
        return _roleAssignable[group.Id] = read?.IsAssignableToRole ?? false;
    }
}
