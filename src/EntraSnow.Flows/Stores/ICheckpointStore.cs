namespace EntraSnow.Flows.Stores;

/// <summary>
/// Small durable values the flows resume from: delta links, risk watermarks, sync progress.
/// SQLite in the local host, Azure Table storage in Azure.
/// </summary>
public interface ICheckpointStore
{
    Task<string?> GetAsync(string key, CancellationToken cancellationToken = default);

    Task SetAsync(string key, string value, CancellationToken cancellationToken = default);

    /// <summary>
    /// Several values at once (the change-record ledger's baseline writes thousands): a store that can writes them in one
    /// transaction or batch, the others one by one.
    /// </summary>
    async Task SetManyAsync(IReadOnlyCollection<KeyValuePair<string, string>> values, CancellationToken cancellationToken = default)
    {
        foreach (var (key, value) in values)
        {
            await SetAsync(key, value, cancellationToken);
        }
    }

    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Every checkpoint whose key starts with <paramref name="prefix"/>, in key order (retention reads them).</summary>
    IAsyncEnumerable<StoredCheckpoint> ListAsync(string prefix, CancellationToken cancellationToken = default);
}

/// <summary>One checkpoint as stored, with when it was last written.</summary>
public sealed record StoredCheckpoint(string Key, string Value, DateTimeOffset UpdatedAt);
