using System.Collections.Concurrent;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Provisioning.Tests.Fakes;

internal sealed class InMemoryProvisioningLog : IProvisioningLog
{
    private readonly List<ProvisioningLogEntry> _entries = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<ProvisioningLogEntry> Entries
    {
        get { lock (_gate) { return [.. _entries]; } }
    }

    /// <summary>How many writes reached the log (a write of several entries together counts once).</summary>
    public int Writes { get; private set; }

    public Task AppendAsync(ProvisioningLogEntry entry, CancellationToken cancellationToken = default) => AppendManyAsync([entry], cancellationToken);

    public Task AppendManyAsync(IReadOnlyList<ProvisioningLogEntry> entries, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _entries.AddRange(entries);
            Writes++;
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

    public Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        lock (_gate) { return Task.FromResult(_entries.RemoveAll(e => e.Timestamp < cutoff)); }
    }
}

/// <summary>A queue that keeps what was sent, drops duplicate ids while queued, and delivers on demand.</summary>
internal sealed class InMemoryQueue : IMessageQueue
{
    private readonly Lock _gate = new();

    public List<(string Queue, ChangeMessage Message)> Ready { get; } = [];

    public List<(string Queue, ChangeMessage Message, DateTimeOffset VisibleAt)> Scheduled { get; } = [];

    public List<(string Queue, ChangeMessage Message)> Sent { get; } = [];

    public Task SendAsync(string queue, IReadOnlyList<ChangeMessage> messages, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            foreach (var m in messages)
            {
                Sent.Add((queue, m));
                if (!Ready.Any(r => r.Message.MessageId == m.MessageId))
                {
                    Ready.Add((queue, m));
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task ScheduleAsync(string queue, ChangeMessage message, DateTimeOffset visibleAt, CancellationToken cancellationToken = default)
    {
        lock (_gate) { Scheduled.Add((queue, message, visibleAt)); }
        return Task.CompletedTask;
    }

    public (string Queue, ChangeMessage Message)? Take()
    {
        lock (_gate)
        {
            if (Ready.Count == 0)
            {
                return null;
            }

            var next = Ready[0];
            Ready.RemoveAt(0);
            return next;
        }
    }

    /// <summary>The first ready message <paramref name="which"/> accepts, taken out of the queue.</summary>
    public (string Queue, ChangeMessage Message)? Take(Func<ChangeMessage, bool> which)
    {
        lock (_gate)
        {
            var at = Ready.FindIndex(r => which(r.Message));
            if (at < 0)
            {
                return null;
            }

            var next = Ready[at];
            Ready.RemoveAt(at);
            return next;
        }
    }

    /// <summary>Time passes: scheduled messages become ready.</summary>
    public int ReleaseScheduled()
    {
        lock (_gate)
        {
            var count = Scheduled.Count;
            foreach (var s in Scheduled)
            {
                Ready.Add((s.Queue, s.Message));
            }

            Scheduled.Clear();
            return count;
        }
    }
}
