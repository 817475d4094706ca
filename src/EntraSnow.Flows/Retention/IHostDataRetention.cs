namespace EntraSnow.Flows.Retention;

/// <summary>
/// A host's own stored data that the retention job keeps in bounds: the local host's dead letters and the disk space
/// every deletion freed in its SQLite files; in Azure, the dead letters Service Bus keeps until they are received.
/// </summary>
public interface IHostDataRetention
{
    /// <summary>Deletes dead letters older than <paramref name="deadLettersBefore"/> and gives freed space back; returns how many dead letters went.</summary>
    Task<int> PurgeAsync(DateTimeOffset deadLettersBefore, CancellationToken cancellationToken);
}
