using EntraSnow.Flows.Messaging;

namespace EntraSnow.Flows.Tests.Support;

/// <summary>
/// A queue port that keeps what was sent and, like the real queues, drops a message id it already holds.
/// <see cref="FailingSend"/> makes that send (1 for the first) throw, as a queue that cannot be written does.
/// </summary>
internal sealed class RecordingQueue : IMessageQueue
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);

    public List<(string Queue, ChangeMessage Message)> Sent { get; } = [];

    public int? FailingSend { get; set; }

    private int _sends;

    public IReadOnlyList<ChangeMessage> On(string queue)
    {
        lock (_gate)
        {
            return Sent.Where(s => s.Queue == queue).Select(s => s.Message).ToList();
        }
    }

    public Task SendAsync(string queue, IReadOnlyList<ChangeMessage> messages, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (++_sends == FailingSend)
            {
                throw new IOException("The queue could not be written.");
            }

            foreach (var message in messages.Where(m => _ids.Add($"{queue}|{m.MessageId}")))
            {
                Sent.Add((queue, message));
            }
        }

        return Task.CompletedTask;
    }

    public Task ScheduleAsync(string queue, ChangeMessage message, DateTimeOffset visibleAt, CancellationToken cancellationToken = default) =>
        SendAsync(queue, [message], cancellationToken);
}
