using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// Entra user id to sys_user sys_id for one group run. A run from scratch reads every provisioned user in one
/// paged query instead of one lookup per member; an incremental run asks the cached reference lookups.
/// </summary>
internal sealed class SysUserIndex(IServiceNowTable serviceNow, IServiceNowReferences references, string objectIdField)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _sysIds = new(StringComparer.OrdinalIgnoreCase);
    private bool _complete;

    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        var query = EncodedQuery.Where(objectIdField, "ISNOTEMPTY", string.Empty);
        await foreach (var record in serviceNow.QueryAsync("sys_user", query, ["sys_id", objectIdField], cancellationToken))
        {
            // Filtered here too: an instance that ignores a query part it does not know returns every user.
            if (record[objectIdField] is { Length: > 0 } objectId && record.SysId.Length > 0)
            {
                _sysIds[objectId] = record.SysId;
            }
        }

        _complete = true;
    }

    /// <summary>The user's sys_id, or null when the user is not provisioned (yet).</summary>
    public async Task<string?> FindAsync(string objectId, CancellationToken cancellationToken)
    {
        if (_sysIds.TryGetValue(objectId, out var sysId))
        {
            return sysId;
        }

        if (_complete)
        {
            return null;
        }

        sysId = await references.FindAsync("sys_user", objectIdField, objectId, cancellationToken);
        if (sysId is not null)
        {
            _sysIds[objectId] = sysId;
        }

        return sysId;
    }
}
