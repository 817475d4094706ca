namespace EntraSnow.Flows.ProvisioningLog;

/// <summary>
/// Every provisioning decision, with its correlation id, so an operator can see why a user is (or is not) in
/// ServiceNow. SQLite in the local host, Azure Table storage in Azure. Entries carry field names and reasons,
/// never secrets.
/// </summary>
public interface IProvisioningLog
{
    Task AppendAsync(ProvisioningLogEntry entry, CancellationToken cancellationToken = default);

    /// <summary>
    /// Several entries (a full sync's chunk of users it decided itself): a store that can writes them together, one
    /// transaction instead of one flushed write each.
    /// </summary>
    async Task AppendManyAsync(IReadOnlyList<ProvisioningLogEntry> entries, CancellationToken cancellationToken = default)
    {
        foreach (var entry in entries)
        {
            await AppendAsync(entry, cancellationToken);
        }
    }

    /// <summary>The latest entries, newest first.</summary>
    Task<IReadOnlyList<ProvisioningLogEntry>> GetRecentAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>The latest entries about one Entra object, newest first.</summary>
    Task<IReadOnlyList<ProvisioningLogEntry>> GetBySubjectAsync(string subjectId, int limit, CancellationToken cancellationToken = default);

    /// <summary>Every entry of one correlation id (a message, or a whole sync run), oldest first.</summary>
    Task<IReadOnlyList<ProvisioningLogEntry>> GetByCorrelationAsync(string correlationId, CancellationToken cancellationToken = default);

    /// <summary>What a correlation id (typically a sync run) did: one decisive action per object.</summary>
    Task<ProvisioningSummary> GetSummaryAsync(string correlationId, CancellationToken cancellationToken = default);

    /// <summary>Deletes the entries written before <paramref name="cutoff"/> (retention); returns how many went.</summary>
    Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);
}
