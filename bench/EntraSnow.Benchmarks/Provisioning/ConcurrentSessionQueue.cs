using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Benchmarks.Provisioning;

/// <summary>
/// An in-memory queue with the local queue's contract: duplicate ids dropped while queued, scheduled messages
/// visible when due, and one message per session key in flight (Service Bus sessions). Consumers wake on a signal
/// when work arrives rather than sleeping on a poll interval.
/// </summary>
internal sealed class ConcurrentSessionQueue : IMessageQueue
{
    private readonly Lock _gate = new();
    private readonly LinkedList<(string Queue, ChangeMessage Message)> _ready = new();
    private readonly HashSet<string> _queuedIds = new(StringComparer.Ordinal);
    private readonly List<(string Queue, ChangeMessage Message, DateTimeOffset VisibleAt)> _scheduled = [];
    private readonly HashSet<string> _busySessions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new(0);

    /// <summary>Raised after a message was processed (any disposition), with its id.</summary>
    public event Action<string>? Processed;

    public Task SendAsync(string queue, IReadOnlyList<ChangeMessage> messages, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            foreach (var message in messages)
            {
                if (_queuedIds.Add(message.MessageId))
                {
                    _ready.AddLast((queue, message));
                }
            }
        }

        _signal.Release(messages.Count);
        return Task.CompletedTask;
    }

    public Task ScheduleAsync(string queue, ChangeMessage message, DateTimeOffset visibleAt, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _scheduled.Add((queue, message, visibleAt));
        }

        return Task.CompletedTask;
    }

    public Task RunConsumersAsync(IServiceProvider services, int workers, CancellationToken cancellationToken)
    {
        var processor = services.GetRequiredService<MessageProcessor>();
        var handlers = services.GetServices<IMessageHandler>().ToDictionary(h => h.Queue);
        return Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => ConsumeAsync(processor, handlers, cancellationToken), CancellationToken.None)));
    }

    private async Task ConsumeAsync(MessageProcessor processor, Dictionary<string, IMessageHandler> handlers, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var next = TryTake();
            if (next is null)
            {
                try
                {
                    // Woken by new work at once; the timeout only brings scheduled messages due.
                    await _signal.WaitAsync(TimeSpan.FromMilliseconds(50), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            var (queue, message) = next.Value;
            try
            {
                var disposition = await processor.ProcessAsync(handlers[queue], message, cancellationToken);
                if (disposition is MessageDisposition.Reschedule r)
                {
                    await ScheduleAsync(queue, message with { Attempt = r.NextAttempt }, r.VisibleAt, cancellationToken);
                }
                else if (disposition is MessageDisposition.DeadLetter d)
                {
                    Console.Error.WriteLine($"  dead-lettered {message.Kind} {message.SubjectId}: {d.Description}");
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                lock (_gate)
                {
                    _busySessions.Remove(message.SessionKey);
                }

                _signal.Release();
                Processed?.Invoke(message.MessageId);
            }
        }
    }

    private (string Queue, ChangeMessage Message)? TryTake()
    {
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            for (var i = _scheduled.Count - 1; i >= 0; i--)
            {
                if (_scheduled[i].VisibleAt <= now && _queuedIds.Add(_scheduled[i].Message.MessageId))
                {
                    _ready.AddLast((_scheduled[i].Queue, _scheduled[i].Message));
                }

                if (_scheduled[i].VisibleAt <= now)
                {
                    _scheduled.RemoveAt(i);
                }
            }

            for (var node = _ready.First; node is not null; node = node.Next)
            {
                if (_busySessions.Add(node.Value.Message.SessionKey))
                {
                    _ready.Remove(node);
                    _queuedIds.Remove(node.Value.Message.MessageId);
                    return node.Value;
                }
            }

            return null;
        }
    }
}
