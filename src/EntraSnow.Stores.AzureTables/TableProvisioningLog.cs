using Azure.Data.Tables;
using EntraSnow.Flows.ProvisioningLog;

namespace EntraSnow.Stores.AzureTables;

/// <summary>
/// The provisioning log in Table storage. Each entry is written under three partitions so every query is a single
/// partition scan: by correlation id (oldest first), by subject (newest first) and by day (newest first, for "recent").
/// </summary>
public sealed class TableProvisioningLog(TableServiceClient service, TimeProvider clock, string tablePrefix = "EntraSnow") : IProvisioningLog
{
    private readonly LazyTable _byCorrelation = new(service, tablePrefix + "LogByCorrelation");
    private readonly LazyTable _bySubject = new(service, tablePrefix + "LogBySubject");
    private readonly LazyTable _byDay = new(service, tablePrefix + "LogByDay");

    /// <summary>How far back "recent" looks.</summary>
    private const int RecentDays = 14;

    public async Task AppendAsync(ProvisioningLogEntry entry, CancellationToken cancellationToken = default)
    {
        // The unique suffix keeps two entries of the same tick apart.
        var unique = Guid.NewGuid().ToString("N")[..12];
        var byCorrelation = await _byCorrelation.GetAsync(cancellationToken);
        var bySubject = await _bySubject.GetAsync(cancellationToken);
        var byDay = await _byDay.GetAsync(cancellationToken);
        await Task.WhenAll(
            byCorrelation.UpsertEntityAsync(ToEntity(entry, TableKeys.Escape(entry.CorrelationId), $"{TableKeys.Ascending(entry.Timestamp)}-{unique}"), TableUpdateMode.Replace, cancellationToken),
            bySubject.UpsertEntityAsync(ToEntity(entry, TableKeys.Escape(entry.SubjectId), $"{TableKeys.Descending(entry.Timestamp)}-{unique}"), TableUpdateMode.Replace, cancellationToken),
            byDay.UpsertEntityAsync(ToEntity(entry, Day(entry.Timestamp), $"{TableKeys.Descending(entry.Timestamp)}-{unique}"), TableUpdateMode.Replace, cancellationToken));
    }

    public async Task<IReadOnlyList<ProvisioningLogEntry>> GetRecentAsync(int limit, CancellationToken cancellationToken = default)
    {
        var table = await _byDay.GetAsync(cancellationToken);
        var entries = new List<ProvisioningLogEntry>();
        var today = clock.GetUtcNow();
        for (var day = 0; day < RecentDays && entries.Count < limit; day++)
        {
            var partition = Day(today.AddDays(-day));
            entries.AddRange(await ReadAsync(table, partition, limit - entries.Count, cancellationToken));
        }

        return entries;
    }

    public async Task<IReadOnlyList<ProvisioningLogEntry>> GetBySubjectAsync(string subjectId, int limit, CancellationToken cancellationToken = default) =>
        await ReadAsync(await _bySubject.GetAsync(cancellationToken), TableKeys.Escape(subjectId), limit, cancellationToken);

    public async Task<IReadOnlyList<ProvisioningLogEntry>> GetByCorrelationAsync(string correlationId, CancellationToken cancellationToken = default) =>
        await ReadAsync(await _byCorrelation.GetAsync(cancellationToken), TableKeys.Escape(correlationId), int.MaxValue, cancellationToken);

    /// <summary>
    /// Streamed through a <see cref="ProvisioningTally"/> with only the columns it needs: a run's entries are never
    /// listed in memory (a sync's progress is asked for several times a second).
    /// </summary>
    public async Task<ProvisioningSummary> GetSummaryAsync(string correlationId, CancellationToken cancellationToken = default)
    {
        var table = await _byCorrelation.GetAsync(cancellationToken);
        var tally = new ProvisioningTally();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.Escape(correlationId)}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["At", "SubjectId", "ObjectKind", "Action", "Reason"], cancellationToken: cancellationToken))
        {
            tally.Add(entity.GetString("ObjectKind") ?? string.Empty, entity.GetString("SubjectId") ?? string.Empty,
                ProvisioningLogEntry.ParseAction(entity.GetString("Action") ?? "skipped"), entity.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue,
                entity.GetString("Reason"));
        }

        return tally.ToSummary();
    }

    /// <summary>Deletes the entries written before <paramref name="cutoff"/> from the three tables; returns how many entries went.</summary>
    public async Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var older = TableClient.CreateQueryFilter($"At lt {cutoff}");
        var deleted = await TableDeletes.DeleteWhereAsync(await _byCorrelation.GetAsync(cancellationToken), older, cancellationToken);
        await TableDeletes.DeleteWhereAsync(await _bySubject.GetAsync(cancellationToken), older, cancellationToken);
        // Days are partitions: the range on PartitionKey keeps the scan to the old days.
        await TableDeletes.DeleteWhereAsync(await _byDay.GetAsync(cancellationToken),
            TableClient.CreateQueryFilter($"PartitionKey le {Day(cutoff)} and At lt {cutoff}"), cancellationToken);
        return deleted;
    }

    private static async Task<List<ProvisioningLogEntry>> ReadAsync(TableClient table, string partition, int limit, CancellationToken cancellationToken)
    {
        var entries = new List<ProvisioningLogEntry>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(limit, 1000), cancellationToken: cancellationToken))
        {
            entries.Add(FromEntity(entity));
            if (entries.Count >= limit)
            {
                break;
            }
        }

        return entries;
    }

    private static string Day(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);

    private static TableEntity ToEntity(ProvisioningLogEntry entry, string partition, string row) => new(partition, row)
    {
        ["At"] = entry.Timestamp,
        ["CorrelationId"] = entry.CorrelationId,
        ["MessageId"] = entry.MessageId,
        ["SubjectId"] = entry.SubjectId,
        ["ObjectKind"] = entry.ObjectKind,
        ["Action"] = ProvisioningLogEntry.ActionName(entry.Action),
        ["ChangedFields"] = string.Join(',', entry.ChangedFields),
        ["Reason"] = entry.Reason,
        ["TargetSysId"] = entry.TargetSysId,
    };

    private static ProvisioningLogEntry FromEntity(TableEntity entity)
    {
        var fields = entity.GetString("ChangedFields") ?? string.Empty;
        return new ProvisioningLogEntry
        {
            Timestamp = entity.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue,
            CorrelationId = entity.GetString("CorrelationId") ?? string.Empty,
            MessageId = entity.GetString("MessageId") ?? string.Empty,
            SubjectId = entity.GetString("SubjectId") ?? string.Empty,
            ObjectKind = entity.GetString("ObjectKind") ?? string.Empty,
            Action = ProvisioningLogEntry.ParseAction(entity.GetString("Action") ?? "skipped"),
            ChangedFields = fields.Length == 0 ? [] : fields.Split(','),
            Reason = entity.GetString("Reason"),
            TargetSysId = entity.GetString("TargetSysId"),
        };
    }
}
