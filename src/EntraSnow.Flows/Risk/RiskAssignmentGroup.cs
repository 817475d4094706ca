using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Risk;

/// <summary>
/// <c>Risk:Incident:AssignmentGroup</c> names no sys_user_group. At start-up it stops the host naming the setting; met
/// by the consumer (ServiceNow was unreachable at start-up) it dead-letters the detection with the same words.
/// </summary>
internal sealed class RiskAssignmentGroupMissingException(string group)
    : PermanentFailureException($"{RiskIncidentOptions.Section}:AssignmentGroup '{group}' names no sys_user_group in ServiceNow: set it to an existing group's name or sys_id.");

/// <summary>
/// The sys_id of <see cref="RiskIncidentOptions.AssignmentGroup"/> (a name, or a sys_id that must exist), resolved once
/// per process, at start-up (<see cref="RiskSettingsCheck"/>) or else on the first incident, and kept.
/// </summary>
internal sealed class RiskAssignmentGroup(IServiceNowReferences references, IOptions<RiskIncidentOptions> options)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _sysId;

    public async Task<string> SysIdAsync(CancellationToken cancellationToken)
    {
        if (_sysId is { } known)
        {
            return known;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var group = options.Value.AssignmentGroup.Trim();
            var field = IsSysId(group) ? "sys_id" : "name";
            return _sysId ??= await references.FindAsync("sys_user_group", field, group, cancellationToken) is { Length: > 0 } sysId
                ? sysId
                : throw new RiskAssignmentGroupMissingException(group);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static bool IsSysId(string value) => value.Length == 32 && value.All(char.IsAsciiHexDigit);
}
