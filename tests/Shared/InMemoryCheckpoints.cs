using System.Collections.Concurrent;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Tests.Shared;

/// <summary>
/// A checkpoint store that keeps its values in memory, as the SQLite and Table stores keep them on disk. One copy,
/// compiled into each test project that drives flows without a store.
/// </summary>
internal sealed class InMemoryCheckpoints(TimeProvider? clock = null) : ICheckpointStore
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _updatedAt = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    public Task<string?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(Values.TryGetValue(key, out var value) ? value : null);

    /// <summary>Called before each write with its key and value: a test throws from it to stop a run just before that write (a killed process).</summary>
    public Action<string, string>? BeforeWrite { get; set; }

    public Task SetAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        BeforeWrite?.Invoke(key, value);
        Values[key] = value;
        _updatedAt[key] = _clock.GetUtcNow();
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Values.TryRemove(key, out _);
        return Task.CompletedTask;
    }

#pragma warning disable CS1998 // an in-memory listing has nothing to await
    public async IAsyncEnumerable<StoredCheckpoint> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
#pragma warning restore CS1998
    {
        foreach (var (key, value) in Values.Where(v => v.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(v => v.Key, StringComparer.Ordinal).ToList())
        {
            // Values set straight into the dictionary by a test count as written at the start of time.
            yield return new StoredCheckpoint(key, value, _updatedAt.TryGetValue(key, out var at) ? at : DateTimeOffset.MinValue);
        }
    }
}
