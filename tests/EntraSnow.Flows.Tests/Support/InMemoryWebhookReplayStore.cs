using System.Collections.Concurrent;
using EntraSnow.Flows.ServiceNowWebhooks;

namespace EntraSnow.Flows.Tests.Support;

/// <summary>The replay store's contract in memory: an id is taken once, atomically, until forgotten.</summary>
internal sealed class InMemoryWebhookReplayStore : IWebhookReplayStore
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Remembered => _seen.Keys.ToList();

    public Task<bool> TryRememberAsync(string requestId, DateTimeOffset signedAt, CancellationToken cancellationToken = default) =>
        Task.FromResult(_seen.TryAdd(requestId, signedAt));

    public Task ForgetAsync(string requestId, DateTimeOffset signedAt, CancellationToken cancellationToken = default)
    {
        _seen.TryRemove(requestId, out _);
        return Task.CompletedTask;
    }

    public Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var expired = _seen.Where(s => s.Value + ServiceNowWebhookOptions.Window < now).Select(s => s.Key).ToList();
        return Task.FromResult(expired.Count(id => _seen.TryRemove(id, out _)));
    }
}
