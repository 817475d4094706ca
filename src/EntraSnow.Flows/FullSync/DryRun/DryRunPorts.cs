using System.Runtime.CompilerServices;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Flows.FullSync.DryRun;

/// <summary>
/// The queue of a dry run: what the flows send is kept in memory, in order, and handled by <see cref="SyncDryRun"/> in
/// this process; what they schedule for later comes after everything sent now.
/// </summary>
internal sealed class DryRunQueue : IMessageQueue
{
    private readonly Lock _gate = new();
    private readonly Queue<(string Queue, ChangeMessage Message)> _now = new();
    private readonly List<(string Queue, ChangeMessage Message, DateTimeOffset VisibleAt)> _later = [];

    public Task SendAsync(string queue, IReadOnlyList<ChangeMessage> messages, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            foreach (var message in messages)
            {
                _now.Enqueue((queue, message));
            }
        }

        return Task.CompletedTask;
    }

    public Task ScheduleAsync(string queue, ChangeMessage message, DateTimeOffset visibleAt, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _later.Add((queue, message, visibleAt));
        }

        return Task.CompletedTask;
    }

    /// <summary>The next message to handle: those sent now first, then the scheduled ones, earliest first.</summary>
    public bool TryTake(out string queue, out ChangeMessage message)
    {
        lock (_gate)
        {
            if (_now.Count == 0 && _later.Count > 0)
            {
                foreach (var later in _later.OrderBy(l => l.VisibleAt))
                {
                    _now.Enqueue((later.Queue, later.Message));
                }

                _later.Clear();
            }

            var found = _now.TryDequeue(out var next);
            (queue, message) = found ? next : (string.Empty, null!);
            return found;
        }
    }
}

/// <summary>
/// Checkpoints of a dry run: read from the host's store (creation markers, the change-record baseline), written only to
/// memory. The host's own full sync runs are hidden, so a dry run never resumes, or completes, a real run.
/// </summary>
internal sealed class DryRunCheckpoints(ICheckpointStore store, TimeProvider clock) : ICheckpointStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string?> _written = new(StringComparer.Ordinal);

    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_written.TryGetValue(key, out var value))
            {
                return value;
            }
        }

        return key == FullSyncRunner.CurrentRunKey || key.StartsWith(FullSyncRunner.RunKeyPrefix, StringComparison.Ordinal)
            ? null
            : await store.GetAsync(key, cancellationToken);
    }

    public Task SetAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _written[key] = value;
        }

        return Task.CompletedTask;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _written[key] = null;
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<StoredCheckpoint> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Dictionary<string, string?> written;
        lock (_gate)
        {
            written = _written.Where(w => w.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(w => w.Key, w => w.Value, StringComparer.Ordinal);
        }

        var all = new SortedDictionary<string, StoredCheckpoint>(StringComparer.Ordinal);
        await foreach (var stored in store.ListAsync(prefix, cancellationToken))
        {
            all[stored.Key] = stored;
        }

        foreach (var (key, value) in written)
        {
            if (value is null)
            {
                all.Remove(key);
            }
            else
            {
                all[key] = new StoredCheckpoint(key, value, clock.GetUtcNow());
            }
        }

        foreach (var checkpoint in all.Values)
        {
            yield return checkpoint;
        }
    }
}

/// <summary>The provisioning log of a dry run: the decisions the real run would log, kept in memory for the report.</summary>
internal sealed class DryRunLog : IProvisioningLog
{
    private readonly Lock _gate = new();
    private readonly List<ProvisioningLogEntry> _entries = [];

    public IReadOnlyList<ProvisioningLogEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                return [.. _entries];
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public Task AppendAsync(ProvisioningLogEntry entry, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _entries.Add(entry);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ProvisioningLogEntry>> GetRecentAsync(int limit, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ProvisioningLogEntry>>(Entries.Reverse().Take(limit).ToList());

    public Task<IReadOnlyList<ProvisioningLogEntry>> GetBySubjectAsync(string subjectId, int limit, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ProvisioningLogEntry>>(Entries.Reverse().Where(e => e.SubjectId == subjectId).Take(limit).ToList());

    public Task<IReadOnlyList<ProvisioningLogEntry>> GetByCorrelationAsync(string correlationId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ProvisioningLogEntry>>(Entries.Where(e => e.CorrelationId == correlationId).ToList());

    public Task<ProvisioningSummary> GetSummaryAsync(string correlationId, CancellationToken cancellationToken = default) =>
        Task.FromResult(ProvisioningSummary.FromEntries(Entries.Where(e => e.CorrelationId == correlationId)));

    public Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) => Task.FromResult(0);
}
