namespace EntraSnow.Flows.Stores;

/// <summary>
/// Small durable values the flows resume from: delta links, risk watermarks, sync progress.
/// SQLite in the local host, Azure Table storage in Azure.
/// </summary>
public interface ICheckpointStore
{
    Task<string?> GetAsync(string key, CancellationToken cancellationToken = default);

    Task SetAsync(string key, string value, CancellationToken cancellationToken = default);

    Task DeleteAsync(string key, CancellationToken cancellationToken = default);
}
