using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>Checks what data annotations cannot: sensitive groups name real group ids and known policies.</summary>
internal sealed class GroupChangeOptionsValidator : IValidateOptions<GroupChangeOptions>
{
    public ValidateOptionsResult Validate(string? name, GroupChangeOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.SensitiveGroups.Count; i++)
        {
            var group = options.SensitiveGroups[i];
            if (!Guid.TryParse(group.GroupId, out _))
            {
                failures.Add($"GroupChanges:SensitiveGroups:{i}:GroupId '{group.GroupId}' is not an Entra group object id (a GUID).");
            }

            if (!SensitiveGroupPolicies.All.Contains(group.Policy, StringComparer.OrdinalIgnoreCase))
            {
                failures.Add($"GroupChanges:SensitiveGroups:{i}:Policy '{group.Policy}' is not one of: {string.Join(", ", SensitiveGroupPolicies.All)}.");
            }
        }

        if (!SensitiveGroupPolicies.All.Contains(options.RoleAssignablePolicy, StringComparer.OrdinalIgnoreCase))
        {
            failures.Add($"GroupChanges:RoleAssignablePolicy '{options.RoleAssignablePolicy}' is not one of: {string.Join(", ", SensitiveGroupPolicies.All)}.");
        }

        // Checked here rather than by annotations, so the failure names the setting as it is written.
        if (options.ActorFollowUpDelay < TimeSpan.FromSeconds(1) || options.ActorFollowUpDelay > TimeSpan.FromDays(1))
        {
            failures.Add($"GroupChanges:ActorFollowUpDelay '{options.ActorFollowUpDelay}' must be between 00:00:01 and 1.00:00:00.");
        }

        if (options.ActorFollowUpAttempts is < 0 or > 100)
        {
            failures.Add($"GroupChanges:ActorFollowUpAttempts '{options.ActorFollowUpAttempts}' must be between 0 and 100 (0: the audit log is not read again).");
        }

        if (options.AssignmentGroup is { Length: > 0 } assignment && assignment.Trim().Length == 0)
        {
            failures.Add("GroupChanges:AssignmentGroup is blank: name a sys_user_group or leave it unset.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
