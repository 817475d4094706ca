using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// Reference lookups remembered for <see cref="ServiceNowOptions.ReferenceCacheTtl"/>. Concurrent lookups of the same
/// value share one request, so 10,000 users of one department cost one department lookup. Misses and failures are not
/// remembered: a department created a moment later is found on the next call.
/// </summary>
internal sealed class ServiceNowReferenceCache(
    IServiceNowTable table,
    IOptions<ServiceNowOptions> options,
    TimeProvider timeProvider,
    ILogger<ServiceNowReferenceCache> logger) : IServiceNowReferences, IDisposable
{
    private readonly ConcurrentDictionary<string, CacheEntry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _createGate = new(1, 1);

    public async Task<string?> FindAsync(string tableName, string field, string value, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var key = Key(tableName, field, value);
        while (true)
        {
            var now = timeProvider.GetUtcNow();
            var entry = _entries.GetOrAdd(key, _ => new CacheEntry(
                new Lazy<Task<string?>>(() => LookUpAsync(tableName, field, value)),
                now + options.Value.ReferenceCacheTtl));
            if (entry.ExpiresAt <= now)
            {
                _entries.TryRemove(new KeyValuePair<string, CacheEntry>(key, entry));
                continue;
            }

            string? sysId;
            try
            {
                sysId = await entry.Lookup.Value.WaitAsync(cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                _entries.TryRemove(new KeyValuePair<string, CacheEntry>(key, entry));
                throw;
            }

            if (sysId is null)
            {
                _entries.TryRemove(new KeyValuePair<string, CacheEntry>(key, entry));
            }

            return sysId;
        }
    }

    public async Task<string> FindOrCreateAsync(string tableName, string field, string value, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ServiceNowMatchingValueMissingException(tableName, field);
        }

        if (await FindAsync(tableName, field, value, cancellationToken) is { } found)
        {
            return found;
        }

        // One creation at a time, re-checking inside, so parallel callers do not create the same reference twice.
        await _createGate.WaitAsync(cancellationToken);
        try
        {
            if (await FindAsync(tableName, field, value, cancellationToken) is { } createdMeanwhile)
            {
                return createdMeanwhile;
            }

            var created = await table.CreateAsync(tableName, new Dictionary<string, string?> { [field] = value }, cancellationToken);
            logger.LogInformation("Created reference {Table} {SysId}", tableName, created.SysId);
            _entries[Key(tableName, field, value)] = new CacheEntry(
                new Lazy<Task<string?>>(Task.FromResult<string?>(created.SysId)),
                timeProvider.GetUtcNow() + options.Value.ReferenceCacheTtl);
            return created.SysId;
        }
        finally
        {
            _createGate.Release();
        }
    }

    public void Forget(string tableName, string field, string value) => _entries.TryRemove(Key(tableName, field, value), out _);

    private async Task<string?> LookUpAsync(string tableName, string field, string value)
    {
        // Shared by every waiter, so it must not die with the first caller's cancellation.
        var record = await table.FindAsync(tableName, EncodedQuery.Where(field, value).OrderBy("sys_created_on"), ["sys_id", field], CancellationToken.None);
        return record is not null && string.Equals(record[field], value, StringComparison.OrdinalIgnoreCase) && record.SysId.Length > 0
            ? record.SysId
            : null;
    }

    private static string Key(string tableName, string field, string value) => $"{tableName}\u001f{field}\u001f{value}";

    public void Dispose() => _createGate.Dispose();

    private sealed record CacheEntry(Lazy<Task<string?>> Lookup, DateTimeOffset ExpiresAt);
}
