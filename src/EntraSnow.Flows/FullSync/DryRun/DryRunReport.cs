using System.Collections.Concurrent;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.ProvisioningLog;

namespace EntraSnow.Flows.FullSync.DryRun;

/// <summary>One field a write would change; <see cref="Old"/> is null for a record the sync would create.</summary>
public sealed record FieldChange(string Field, string? Old, string? New);

/// <summary>What the sync would do to one user or group, and why.</summary>
/// <param name="SysId">The record it would write (a stand-in <c>new-…</c> id for one it would create).</param>
public sealed record PlannedChange(string ObjectKind, string ObjectId, string? Name, ProvisioningAction Action, string? SysId,
    IReadOnlyList<FieldChange> Fields, string? Reason)
{
    /// <summary>Anything for the sync to do or to say: everything but an unchanged object.</summary>
    public bool NeedsAttention => Action != ProvisioningAction.Unchanged;
}

/// <summary>Writes held back that belong to no user or group record: memberships, references, change records, Entra ID.</summary>
public sealed record HeldBackWrites(PlannedOperation Operation, string Target, int Count);

/// <summary>What a full sync would do, decided by the sync's own code (<see cref="SyncDryRun"/>); nothing was written.</summary>
/// <param name="StoppedWaiting">Work the dry run stopped waiting for (a groups run whose users never settled).</param>
public sealed record DryRunReport(string RunId, IReadOnlyList<PlannedChange> Objects, ProvisioningSummary Summary,
    IReadOnlyList<HeldBackWrites> OtherWrites, int WritesHeldBack, IReadOnlyList<string> StoppedWaiting)
{
    private const int ReadChunk = 100;

    private const int ReadsInFlight = 8;

    /// <param name="instance">The instance itself, to read the current values a write would replace that the run did not read.</param>
    public static async Task<DryRunReport> BuildAsync(string runId, IReadOnlyList<ProvisioningLogEntry> entries, IReadOnlyList<PlannedWrite> writes,
        IReadOnlyDictionary<string, string> names, IServiceNowTable instance, IReadOnlyList<string> stoppedWaiting, CancellationToken cancellationToken)
    {
        var decisive = ProvisioningSummary.Decisive(entries);
        var records = writes.Where(w => w.Operation is PlannedOperation.Create or PlannedOperation.Update)
            .GroupBy(w => (w.Target, w.SysId))
            .ToDictionary(g => g.Key, g => g.ToList());
        var attributed = new HashSet<(string, string)>();
        var objects = new List<(ProvisioningLogEntry Entry, List<PlannedWrite> Writes)>();
        foreach (var entry in decisive)
        {
            var key = (TableOf(entry.ObjectKind), entry.TargetSysId ?? string.Empty);
            var own = records.GetValueOrDefault(key) ?? [];
            if (own.Count > 0)
            {
                attributed.Add(key);
            }

            objects.Add((entry, own));
        }

        var current = await ReadCurrentAsync(objects.SelectMany(o => o.Writes), instance, cancellationToken);
        var planned = objects
            .Select(o => new PlannedChange(o.Entry.ObjectKind, o.Entry.SubjectId, names.GetValueOrDefault(o.Entry.SubjectId) ?? NameIn(o.Writes),
                o.Entry.Action, o.Entry.TargetSysId, FieldChanges(o.Writes, current), o.Entry.Reason))
            .OrderBy(p => p.ObjectKind == ProvisioningObjectKinds.User ? 0 : 1)
            .ThenBy(p => p.Action)
            .ThenBy(p => p.Name ?? p.ObjectId, StringComparer.OrdinalIgnoreCase)
            .ToList();
        var others = writes.Where(w => !attributed.Contains((w.Target, w.SysId)))
            .GroupBy(w => (w.Operation, w.Target))
            .Select(g => new HeldBackWrites(g.Key.Operation, g.Key.Target, g.Count()))
            .OrderBy(h => h.Target, StringComparer.Ordinal).ThenBy(h => h.Operation)
            .ToList();
        return new DryRunReport(runId, planned, ProvisioningSummary.FromEntries(entries), others, writes.Count, stoppedWaiting);
    }

    private static string TableOf(string objectKind) => objectKind == ProvisioningObjectKinds.Group ? "sys_user_group" : "sys_user";

    private static string? NameIn(List<PlannedWrite> writes) =>
        writes.Select(w => w.Fields.GetValueOrDefault("user_name") ?? w.Fields.GetValueOrDefault("name")).FirstOrDefault(n => !string.IsNullOrEmpty(n));

    /// <summary>Field by field: the value before the first write (null for a new record), the value after the last.</summary>
    private static List<FieldChange> FieldChanges(List<PlannedWrite> writes, Dictionary<(string, string), ServiceNowRecord> current)
    {
        var created = writes.Any(w => w.Operation == PlannedOperation.Create);
        var changes = new Dictionary<string, FieldChange>(StringComparer.Ordinal);
        foreach (var write in writes)
        {
            var record = current.GetValueOrDefault((write.Target, write.SysId));
            foreach (var (field, value) in write.Fields)
            {
                var old = changes.TryGetValue(field, out var earlier)
                    ? earlier.Old
                    : created ? null : write.Before.TryGetValue(field, out var before) ? before ?? string.Empty : record is null ? null : record[field] ?? string.Empty;
                changes[field] = new FieldChange(field, old, value);
            }
        }

        return changes.Values.Where(c => created ? !string.IsNullOrEmpty(c.New) : !string.Equals(c.Old ?? string.Empty, c.New ?? string.Empty, StringComparison.Ordinal)).ToList();
    }

    /// <summary>
    /// The current values of the fields updates would replace and the run never read (an adoption writes without reading
    /// the record first), in one sys_id IN-query per hundred records, a few queries in flight.
    /// </summary>
    private static async Task<Dictionary<(string, string), ServiceNowRecord>> ReadCurrentAsync(IEnumerable<PlannedWrite> writes, IServiceNowTable instance, CancellationToken cancellationToken)
    {
        var current = new ConcurrentDictionary<(string, string), ServiceNowRecord>();
        var reads = writes.Where(w => w.Operation == PlannedOperation.Update && w.Fields.Keys.Any(f => !w.Before.ContainsKey(f)))
            .GroupBy(w => w.Target)
            .SelectMany(table =>
            {
                var fields = table.SelectMany(w => w.Fields.Keys).Append("sys_id").Distinct(StringComparer.Ordinal).ToList();
                return table.Select(w => w.SysId).Distinct(StringComparer.Ordinal).Chunk(ReadChunk).Select(chunk => (Table: table.Key, Fields: fields, SysIds: chunk));
            });
        await Parallel.ForEachAsync(reads, new ParallelOptions { MaxDegreeOfParallelism = ReadsInFlight, CancellationToken = cancellationToken }, async (read, token) =>
        {
            await foreach (var record in instance.QueryAsync(read.Table, EncodedQuery.Where("sys_id", "IN", string.Join(",", read.SysIds)), read.Fields, token))
            {
                current[(read.Table, record.SysId)] = record;
            }
        });
        return new Dictionary<(string, string), ServiceNowRecord>(current);
    }
}
