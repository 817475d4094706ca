using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// Entra user id to sys_user sys_id for one group run. Members are looked up in batches (one sys_user IN-query per 100
/// object ids) before a group is written, so a 5,000-member group costs 50 queries, and nothing but the run's own
/// members is ever held: a from-scratch run no longer reads every sys_user of the instance.
/// </summary>
internal sealed class SysUserIndex(IServiceNowTable serviceNow, IServiceNowReferences references, string objectIdField)
{
    // Small enough that the IN-query stays a short URL.
    private const int LookupChunk = 100;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> _sysIds = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Looks up every id not known yet, in batches; ids with no sys_user are remembered as absent.</summary>
    public async Task PrefetchAsync(IEnumerable<string> objectIds, CancellationToken cancellationToken)
    {
        var unknown = objectIds.Where(id => !_sysIds.ContainsKey(id)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        foreach (var chunk in unknown.Chunk(LookupChunk))
        {
            var found = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var query = EncodedQuery.Where(objectIdField, "IN", string.Join(",", chunk));
            await foreach (var record in serviceNow.QueryAsync("sys_user", query, ["sys_id", objectIdField], cancellationToken))
            {
                // Filtered here too: an instance that ignores a query part it does not know returns every user.
                if (record[objectIdField] is { Length: > 0 } objectId && record.SysId.Length > 0)
                {
                    found[objectId] = record.SysId;
                }
            }

            foreach (var id in chunk)
            {
                _sysIds[id] = found.GetValueOrDefault(id);
            }
        }
    }

    /// <summary>The user's sys_id, or null when the user is not provisioned (yet).</summary>
    public async Task<string?> FindAsync(string objectId, CancellationToken cancellationToken)
    {
        if (_sysIds.TryGetValue(objectId, out var sysId))
        {
            return sysId;
        }

        sysId = await references.FindAsync("sys_user", objectIdField, objectId, cancellationToken);
        _sysIds[objectId] = sysId;
        return sysId;
    }
}
