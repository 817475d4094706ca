using EntraSnow.Connectors.ServiceNow;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>The sys_id of <see cref="InactiveSweepOptions.AssignmentGroup"/>, looked up once per process.</summary>
public sealed class ReviewAssignmentGroup(IServiceNowReferences references, IOptions<InactiveSweepOptions> options)
{
    private string? _sysId;

    /// <summary>The group's sys_id; a group ServiceNow does not have throws <see cref="MissingAssignmentGroupException"/>.</summary>
    public async Task<string> SysIdAsync(CancellationToken cancellationToken)
    {
        if (_sysId is { } known)
        {
            return known;
        }

        var name = options.Value.AssignmentGroup;
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new MissingAssignmentGroupException("InactiveSweep:AssignmentGroup is not set: name the sys_user_group reviews go to.");
        }

        if (await references.FindAsync("sys_user_group", "name", name, cancellationToken) is not { Length: > 0 } sysId)
        {
            throw new MissingAssignmentGroupException($"InactiveSweep:AssignmentGroup '{name}' names no sys_user_group in ServiceNow.");
        }

        _sysId = sysId;
        return sysId;
    }
}

/// <summary>The configured assignment group does not exist: a setting to fix, not a transient failure.</summary>
public sealed class MissingAssignmentGroupException(string message) : Exception(message);
