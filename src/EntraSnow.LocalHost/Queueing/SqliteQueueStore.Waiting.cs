using EntraSnow.Flows.Messaging;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>How consumers wait for work: this process's signals, and the next scheduled message or expiring lock.</summary>
public sealed partial class SqliteQueueStore
{
    /// <summary>
    /// Returns when the queue may have work: at once when a message is sent in this process, else when the next scheduled
    /// message or expired lock is due, else after <paramref name="maxWait"/>. Consumers never sleep on a fixed poll
    /// interval while work arrives.
    /// </summary>
    public Task WaitForWorkAsync(string queue, TimeSpan maxWait, CancellationToken cancellationToken) =>
        WaitForWorkAsync(queue, [], maxWait, cancellationToken);

    /// <summary>As <see cref="WaitForWorkAsync(string, TimeSpan, CancellationToken)"/>; messages of <paramref name="busySessions"/> wait for their holder's signal.</summary>
    public async Task WaitForWorkAsync(string queue, IReadOnlyCollection<string> busySessions, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var signal = Signal(queue);
        var wake = signal.WaitAsync();
        var due = await NextDueAsync(queue, busySessions, cancellationToken);
        var wait = maxWait;
        if (due is { } at)
        {
            var untilDue = at - _clock.GetUtcNow();
            if (untilDue <= TimeSpan.Zero)
            {
                return;
            }

            wait = untilDue < wait ? untilDue : wait;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(wait, _clock, cts.Token);
        await Task.WhenAny(wake, timer);
        await cts.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>When this queue next has something a receiver could take (null: nothing queued).</summary>
    internal Task<DateTimeOffset?> NextDueAsync(string queue, CancellationToken cancellationToken) => NextDueAsync(queue, [], cancellationToken);

    internal async Task<DateTimeOffset?> NextDueAsync(string queue, IReadOnlyCollection<string> busySessions, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        // A message whose session is busy is not due: it becomes receivable when the holder settles (which signals) or
        // its lock expires (the holder's own row gives that time). Counting it would make idle consumers spin.
        command.CommandText = """
            SELECT MIN(CASE WHEN m.locked_until IS NOT NULL AND m.locked_until > m.visible_at THEN m.locked_until ELSE m.visible_at END)
            FROM messages m
            WHERE m.queue = $queue AND m.state = 0
              AND m.session_key NOT IN (SELECT value FROM json_each($busy))
              AND NOT ((m.locked_until IS NULL OR m.locked_until <= $now)
                       AND EXISTS (SELECT 1 FROM messages o WHERE o.queue = m.queue AND o.session_key = m.session_key
                                   AND o.state = 0 AND o.locked_until > $now))
            """;
        command.Parameters.AddWithValue("$queue", queue);
        command.Parameters.AddWithValue("$now", _clock.GetUtcNow().ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$busy", BusyJson(busySessions));
        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    /// <summary>Wakes this process's consumers of <paramref name="queue"/> (e.g. a session they skipped as busy is free again).</summary>
    public void Wake(string queue) => Signal(queue).Set();

    /// <summary>Wakes this process's consumers of every queue (another process changed the queue file).</summary>
    public void WakeAll()
    {
        foreach (var queue in QueueNames.All)
        {
            Signal(queue).Set();
        }
    }

    private WorkSignal Signal(string queue) => _signals.GetOrAdd(queue, _ => new WorkSignal());

    /// <summary>An auto-reset signal consumers await; set on every send in this process.</summary>
    private sealed class WorkSignal
    {
        private TaskCompletionSource _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task WaitAsync() => Volatile.Read(ref _source).Task;

        public void Set() => Interlocked.Exchange(ref _source, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
