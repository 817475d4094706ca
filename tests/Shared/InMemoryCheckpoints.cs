using System.Collections.Concurrent;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Tests.Shared;

/// <summary>
/// A checkpoint store that keeps its values in memory, as the SQLite and Table stores keep them on disk. One copy,
/// compiled into each test project that drives flows without a store.
/// </summary>
internal sealed class InMemoryCheckpoints : ICheckpointStore
{
    public ConcurrentDictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    public Task<string?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(Values.TryGetValue(key, out var value) ? value : null);

    public Task SetAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        Values[key] = value;
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Values.TryRemove(key, out _);
        return Task.CompletedTask;
    }
}
