using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>The assignment group's name named no sys_user_group. Transient: the work waits until the setting is fixed.</summary>
internal sealed class AssignmentGroupMissingException(string name)
    : TransientFailureException($"GroupChanges:AssignmentGroup '{name}' names no sys_user_group in ServiceNow.");

/// <summary>
/// The sys_id of <see cref="GroupChangeOptions.AssignmentGroup"/>, looked up by name once per process and kept:
/// the records of a 5,000-member change do not ask 5,000 times.
/// </summary>
internal sealed class ChangeAssignmentGroup(IServiceNowReferences references, IOptions<GroupChangeOptions> options)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _sysId;

    /// <summary>The sys_id, or null when no assignment group is configured.</summary>
    public async Task<string?> SysIdAsync(CancellationToken cancellationToken)
    {
        if (options.Value.AssignmentGroup is not { Length: > 0 } name)
        {
            return null;
        }

        if (_sysId is not null)
        {
            return _sysId;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _sysId ??= await references.FindAsync("sys_user_group", "name", name, cancellationToken)
                ?? throw new AssignmentGroupMissingException(name);
        }
        finally
        {
            _gate.Release();
        }
    }
}
