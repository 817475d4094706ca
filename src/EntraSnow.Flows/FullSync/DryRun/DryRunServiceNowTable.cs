using System.Runtime.CompilerServices;
using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.FullSync.DryRun;

/// <summary>
/// The ServiceNow port of a dry run: reads go to the instance, writes are recorded (<see cref="Writes"/>) and never
/// sent. What the run "wrote" is laid over what it reads next, as the instance would answer after the real writes: a
/// user adopted earlier in the run is found by its object id when its groups are mirrored, a department "created" once
/// is found by the next user of that department. Records the run read are remembered, so an update says what it replaces.
/// </summary>
public sealed class DryRunServiceNowTable(IServiceNowTable instance) : IServiceNowTable
{
    /// <summary>The stand-in sys_id of a record the dry run would create.</summary>
    public const string NewIdPrefix = "new-";

    private readonly Lock _gate = new();
    private readonly List<PlannedWrite> _writes = [];
    private readonly Dictionary<(string Table, string SysId), Dictionary<string, string?>> _known = [];
    private readonly Dictionary<(string Table, string SysId), Dictionary<string, string?>> _pending = [];
    private readonly Dictionary<(string Table, string Field, string Value), HashSet<string>> _pendingIndex = [];
    private readonly HashSet<(string Table, string SysId)> _deleted = [];
    private int _created;

    /// <summary>Every write held back, in the order the flows made them.</summary>
    public IReadOnlyList<PlannedWrite> Writes
    {
        get
        {
            lock (_gate)
            {
                return [.. _writes];
            }
        }
    }

    /// <summary>What the dry run knows of a record's values (read from the instance, then its own writes), or null.</summary>
    public IReadOnlyDictionary<string, string?>? Known(string table, string sysId)
    {
        lock (_gate)
        {
            return _known.TryGetValue((table, sysId), out var values) ? new Dictionary<string, string?>(values, StringComparer.Ordinal) : null;
        }
    }

    /// <summary>Records a write to Entra ID the dry run held back (see <see cref="DryRunDirectory"/>).</summary>
    internal void RecordDirectoryWrite(string call, string subject, IReadOnlyDictionary<string, string?> arguments)
    {
        lock (_gate)
        {
            _writes.Add(new PlannedWrite(PlannedOperation.Directory, call, subject, arguments, new Dictionary<string, string?>()));
        }
    }

    public async Task<ServiceNowRecord?> GetAsync(string table, string sysId, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default)
    {
        if (Overlaid(table, sysId, out var pendingOnly) is { } local && pendingOnly)
        {
            return local;
        }

        return Seen(table, await instance.GetAsync(table, sysId, fields, cancellationToken));
    }

    public async Task<ServiceNowRecord?> GetAsync(string table, string sysId, ServiceNowReadOptions read, CancellationToken cancellationToken = default)
    {
        if (Overlaid(table, sysId, out var pendingOnly) is { } local && pendingOnly)
        {
            return local;
        }

        return Seen(table, await instance.GetAsync(table, sysId, read, cancellationToken));
    }

    public IAsyncEnumerable<ServiceNowRecord> QueryAsync(string table, EncodedQuery query, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default) =>
        OverlayAsync(table, query, instance.QueryAsync(table, query, fields, cancellationToken), cancellationToken);

    public IAsyncEnumerable<ServiceNowRecord> QueryAsync(string table, EncodedQuery query, ServiceNowReadOptions read, CancellationToken cancellationToken = default) =>
        OverlayAsync(table, query, instance.QueryAsync(table, query, read, cancellationToken), cancellationToken);

    public async Task<ServiceNowRecord?> FindAsync(string table, EncodedQuery query, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default)
    {
        var found = Seen(table, await instance.FindAsync(table, query, fields, cancellationToken));
        if (found is not null && StillMatches(table, query, found))
        {
            return found;
        }

        if (found is not null)
        {
            // The first record no longer matches after this run's writes: the next one might.
            await foreach (var record in QueryAsync(table, query, fields, cancellationToken))
            {
                return record;
            }

            return null;
        }

        return PendingMatches(table, query, except: null).FirstOrDefault();
    }

    public Task<int> CountAsync(string table, EncodedQuery query, CancellationToken cancellationToken = default) =>
        instance.CountAsync(table, query, cancellationToken);

    public Task<ServiceNowRecord> CreateAsync(string table, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var sysId = $"{NewIdPrefix}{table}-{++_created}";
            var values = new Dictionary<string, string?>(fields, StringComparer.Ordinal) { ["sys_id"] = sysId };
            _writes.Add(new PlannedWrite(PlannedOperation.Create, table, sysId, new Dictionary<string, string?>(fields, StringComparer.Ordinal), new Dictionary<string, string?>()));
            Apply(table, sysId, values);
            return Task.FromResult(new ServiceNowRecord(values));
        }
    }

    public Task<ServiceNowRecord> UpdateAsync(string table, string sysId, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var known = _known.GetValueOrDefault((table, sysId));
            var before = fields.Keys.Where(f => known?.ContainsKey(f) == true).ToDictionary(f => f, f => known![f], StringComparer.Ordinal);
            _writes.Add(new PlannedWrite(PlannedOperation.Update, table, sysId, new Dictionary<string, string?>(fields, StringComparer.Ordinal), before));
            Apply(table, sysId, fields);
            return Task.FromResult(new ServiceNowRecord(new Dictionary<string, string?>(_known[(table, sysId)], StringComparer.Ordinal)));
        }
    }

    public Task DeleteAsync(string table, string sysId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _writes.Add(new PlannedWrite(PlannedOperation.Delete, table, sysId, new Dictionary<string, string?>(), new Dictionary<string, string?>()));
            _deleted.Add((table, sysId));
        }

        return Task.CompletedTask;
    }

    public Task<UpsertResult> UpsertAsync(string table, string keyField, string keyValue, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default) =>
        KeyedUpsert.RunAsync(this, table, keyField, keyValue, fields, cancellationToken);

    private async IAsyncEnumerable<ServiceNowRecord> OverlayAsync(string table, EncodedQuery query, IAsyncEnumerable<ServiceNowRecord> read,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var returned = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var record in read.WithCancellation(cancellationToken))
        {
            if (Seen(table, record) is { } current && StillMatches(table, query, current))
            {
                returned.Add(current.SysId);
                yield return current;
            }
        }

        foreach (var record in PendingMatches(table, query, returned))
        {
            yield return record;
        }
    }

    /// <summary>Remembers what the instance answered and lays this run's writes over it; null for a record the run deleted.</summary>
    private ServiceNowRecord? Seen(string table, ServiceNowRecord? record)
    {
        if (record is null || record.SysId.Length == 0)
        {
            return record;
        }

        lock (_gate)
        {
            var key = (table, record.SysId);
            if (_deleted.Contains(key))
            {
                return null;
            }

            if (!_known.TryGetValue(key, out var known))
            {
                _known[key] = known = new Dictionary<string, string?>(StringComparer.Ordinal);
            }

            var pending = _pending.GetValueOrDefault(key);
            foreach (var (field, value) in record)
            {
                // A field this run wrote keeps the written value; the rest is what the instance holds.
                if (pending?.ContainsKey(field) != true)
                {
                    known[field] = value;
                }
            }

            if (pending is null)
            {
                return record;
            }

            var merged = record.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            foreach (var (field, value) in pending)
            {
                merged[field] = value;
            }

            return new ServiceNowRecord(merged, new Dictionary<string, string?>(record.DisplayValues, StringComparer.Ordinal));
        }
    }

    /// <param name="pendingOnly">True when the record exists only in this run (created by it), or was deleted by it (null).</param>
    private ServiceNowRecord? Overlaid(string table, string sysId, out bool pendingOnly)
    {
        lock (_gate)
        {
            pendingOnly = _deleted.Contains((table, sysId)) || sysId.StartsWith(NewIdPrefix, StringComparison.Ordinal);
            return pendingOnly && _known.TryGetValue((table, sysId), out var values) && !_deleted.Contains((table, sysId))
                ? new ServiceNowRecord(values)
                : null;
        }
    }

    /// <summary>A record the run changed may no longer match the query it was read with.</summary>
    private bool StillMatches(string table, EncodedQuery query, ServiceNowRecord record)
    {
        lock (_gate)
        {
            return !_pending.ContainsKey((table, record.SysId)) || !PendingQuery.CanEvaluate(query) || PendingQuery.Matches(query, record);
        }
    }

    /// <summary>Records this run created or changed that match the query and the instance did not return.</summary>
    private List<ServiceNowRecord> PendingMatches(string table, EncodedQuery query, HashSet<string>? except)
    {
        if (!PendingQuery.CanEvaluate(query))
        {
            return [];
        }

        lock (_gate)
        {
            return Candidates(table, query)
                .Where(id => except?.Contains(id) != true && !_deleted.Contains((table, id)))
                .Select(id => _known[(table, id)])
                .Where(values => PendingQuery.Matches(query, values))
                .Select(values => new ServiceNowRecord(values))
                .ToList();
        }
    }

    /// <summary>
    /// The run's records a query can match: through the index when its first condition is an equality or IN on its own
    /// (a full sync of 10,000 users asks thousands of such questions), else all of the table's.
    /// </summary>
    private List<string> Candidates(string table, EncodedQuery query)
    {
        var conditions = query.Conditions;
        if (conditions.Count > 0 && conditions[0].Operator is "=" or "IN" && (conditions.Count == 1 || !conditions[1].OrWithPrevious))
        {
            var first = conditions[0];
            var values = first.Operator == "IN" ? first.Value.Split(',') : [first.Value];
            return values.SelectMany(v => _pendingIndex.GetValueOrDefault((table, first.Field, v.ToUpperInvariant())) ?? []).Distinct(StringComparer.Ordinal).ToList();
        }

        return _pending.Keys.Where(k => k.Table == table).Select(k => k.SysId).ToList();
    }

    private void Apply(string table, string sysId, IReadOnlyDictionary<string, string?> fields)
    {
        var key = (table, sysId);
        if (!_pending.TryGetValue(key, out var pending))
        {
            _pending[key] = pending = new Dictionary<string, string?>(StringComparer.Ordinal);
        }

        if (!_known.TryGetValue(key, out var known))
        {
            _known[key] = known = new Dictionary<string, string?>(StringComparer.Ordinal) { ["sys_id"] = sysId };
        }

        foreach (var (field, value) in fields)
        {
            pending[field] = value;
            known[field] = value;
            var indexKey = (table, field, (value ?? string.Empty).ToUpperInvariant());
            if (!_pendingIndex.TryGetValue(indexKey, out var ids))
            {
                _pendingIndex[indexKey] = ids = new HashSet<string>(StringComparer.Ordinal);
            }

            ids.Add(sysId);
        }
    }
}
