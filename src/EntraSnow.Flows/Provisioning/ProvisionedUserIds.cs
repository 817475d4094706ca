using System.Collections.Concurrent;

namespace EntraSnow.Flows.Provisioning;

/// <summary>
/// Entra object id to sys_user sys_id for users this process has written. A sys_id never changes and EntraSnow
/// never deletes a sys_user, so a manager written a moment ago is referenced without asking ServiceNow again.
/// Bounded: cleared when full (it is only a shortcut; the reference lookup remains the truth).
/// </summary>
internal sealed class ProvisionedUserIds
{
    private const int Capacity = 200_000;
    private readonly ConcurrentDictionary<string, string> _sysIds = new(StringComparer.OrdinalIgnoreCase);

    public void Remember(string objectId, string sysId)
    {
        if (string.IsNullOrEmpty(sysId))
        {
            return;
        }

        if (_sysIds.Count >= Capacity)
        {
            _sysIds.Clear();
        }

        _sysIds[objectId] = sysId;
    }

    public string? Find(string objectId) => _sysIds.TryGetValue(objectId, out var sysId) ? sysId : null;
}
