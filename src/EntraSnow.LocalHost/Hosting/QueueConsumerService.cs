using System.Collections.Concurrent;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Queueing;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>
/// Runs every registered <see cref="IMessageHandler"/> against its SQLite queue, the local counterpart of the Functions
/// app's ServiceBusTrigger functions: the same <see cref="MessageProcessor"/> decides each message's fate, and this
/// class only applies it with the local queue's verbs. Work is paced by the ServiceNow budget, not by a count per queue:
/// each queue has more workers than the budget has places, and a worker of a queue whose work calls ServiceNow takes a
/// message only when the budget has room (not paused by the instance, no long line), so a message is never locked
/// while its calls could not run, and one busy queue (a full sync's users) can use the whole budget.
/// </summary>
internal sealed class QueueConsumerService(
    SqliteQueueStore queues,
    IEnumerable<IMessageHandler> handlers,
    MessageProcessor processor,
    ServiceNowRequestBudget serviceNowBudget,
    IOptions<LocalHostOptions> options,
    IOptions<SqliteQueueOptions> queueOptions,
    TimeProvider clock,
    ILogger<QueueConsumerService> logger) : BackgroundService
{
    private static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(30);

    // Per queue, the sessions whose handler is running in this process.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _busySessions = new(StringComparer.Ordinal);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunConsumers)
        {
            logger.LogWarning("LocalHost:RunConsumers is false: intake and timers run, queued work is left untouched");
            return Task.CompletedTask;
        }

        var byQueue = handlers.GroupBy(h => h.Queue, StringComparer.Ordinal).ToList();
        if (byQueue.FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw new InvalidOperationException($"More than one handler is registered for queue '{duplicate.Key}'.");
        }

        // Twice the budget by default: a message spends part of its time on Graph and on the local stores, so more
        // messages than places keep every place busy.
        var perQueue = options.Value.ConsumerConcurrency ?? 2 * serviceNowBudget.Capacity;
        var workers = new List<Task>();
        foreach (var group in byQueue)
        {
            for (var i = 0; i < perQueue; i++)
            {
                workers.Add(Task.Run(() => ConsumeAsync(group.Single(), stoppingToken), stoppingToken));
            }
        }

        logger.LogInformation("Consuming {Queues} with {Concurrency} workers each, paced by the ServiceNow budget of {Budget} requests in flight",
            string.Join(", ", byQueue.Select(g => g.Key)), perQueue, serviceNowBudget.Capacity);
        return Task.WhenAll(workers);
    }

    /// <summary>Subscription upkeep talks only to Graph: a ServiceNow pause must not hold it.</summary>
    internal static bool PacedByServiceNow(string queue) => queue != QueueNames.SubscriptionLifecycle;

    private async Task ConsumeAsync(IMessageHandler handler, CancellationToken stoppingToken)
    {
        var busy = _busySessions.GetOrAdd(handler.Queue, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal));
        var paced = PacedByServiceNow(handler.Queue);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (paced)
                {
                    await serviceNowBudget.WaitForRoomAsync(stoppingToken);
                }

                var received = await queues.ReceiveAsync(handler.Queue, [.. busy.Keys], stoppingToken);
                if (received is null)
                {
                    await queues.WaitForWorkAsync(handler.Queue, [.. busy.Keys], IdleWait, stoppingToken);
                    continue;
                }

                // Until its handler has returned, no other worker takes this session, even if the lock lapsed meanwhile.
                busy[received.Message.SessionKey] = 0;
                try
                {
                    await ProcessAsync(handler, received, stoppingToken);
                }
                finally
                {
                    busy.TryRemove(received.Message.SessionKey, out _);
                    queues.Wake(handler.Queue);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The queue itself failed (disk full, locked file): back off instead of spinning.
                logger.LogError(ex, "Consumer of {Queue} failed; retrying in 5 s", handler.Queue);
                await Task.Delay(TimeSpan.FromSeconds(5), clock, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task ProcessAsync(IMessageHandler handler, ReceivedMessage received, CancellationToken stoppingToken)
    {
        // The handler's work stops when the host stops or the lock is lost: renewal refused, or the lock's expiry reached
        // without a renewal (a stalled disk, say). Either way the message is then someone else's to process.
        using var lockLost = new CancellationTokenSource(queueOptions.Value.VisibilityTimeout, clock);
        using var work = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lockLost.Token);
        using var renewal = new CancellationTokenSource();
        var renewing = RenewWhileProcessingAsync(received, lockLost, renewal.Token);
        MessageDisposition? disposition = null;
        try
        {
            disposition = await processor.ProcessAsync(handler, received.Message, work.Token);
        }
        catch (Exception ex) when (!work.IsCancellationRequested)
        {
            // MessageProcessor decides every failure; reaching here is a bug. Give the message back rather than hold it.
            logger.LogError(ex, "Processing {MessageId} on {Queue} failed outside the handler", received.Message.MessageId, received.Queue);
        }
        catch (Exception) when (work.IsCancellationRequested)
        {
            if (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Lost the lock on {MessageId} on {Queue}: its work was cancelled and it will be delivered again",
                    received.Message.MessageId, received.Queue);
            }
        }
        finally
        {
            await renewal.CancelAsync();
            await renewing;
        }

        if (disposition is MessageDisposition.Complete { Resumed.Count: > 0 } complete)
        {
            // The pause this success lifted held other work until its next probe: it follows now, not then.
            await ReleaseHeldAsync(complete.Resumed);
        }

        try
        {
            switch (disposition)
            {
                case MessageDisposition.Complete:
                    var coalesced = await queues.CompleteAsync(received, MessageCoalescing.CoversEarlierOfItsKind(received.Message), CancellationToken.None);
                    if (coalesced > 0)
                    {
                        logger.LogDebug("{MessageId} on {Queue} also covered {Count} earlier {Kind} message(s) about {SubjectId}",
                            received.Message.MessageId, received.Queue, coalesced, received.Message.Kind, received.Message.SubjectId);
                    }

                    break;
                case MessageDisposition.Reschedule r:
                    await queues.RescheduleAsync(received, r.VisibleAt, r.NextAttempt, r.WaitsFor, CancellationToken.None);
                    if (r.WaitsFor is { } connector && !processor.Pauses.Current.Any(p => p.Connector == connector))
                    {
                        // Held just before another worker's probe lifted the pause, and settled after that worker released
                        // the held work: it follows now too.
                        await ReleaseHeldAsync([connector]);
                    }

                    break;
                case MessageDisposition.DeadLetter d:
                    await queues.DeadLetterAsync(received, d.Reason, d.Description, CancellationToken.None);
                    break;
                default:
                    await queues.AbandonAsync(received, CancellationToken.None);
                    break;
            }
        }
        catch (MessageLockLostException ex)
        {
            logger.LogWarning(ex, "Settling {MessageId} on {Queue} came too late; it will be processed again (harmless: handlers are idempotent)",
                received.Message.MessageId, received.Queue);
        }

        stoppingToken.ThrowIfCancellationRequested();
    }

    private async Task ReleaseHeldAsync(IReadOnlyCollection<string> connectors)
    {
        var released = await queues.ReleaseHeldAsync(connectors, CancellationToken.None);
        if (released > 0)
        {
            logger.LogInformation("{Count} message(s) held for {Connectors} follow now", released, string.Join(", ", connectors));
        }
    }

    private async Task RenewWhileProcessingAsync(ReceivedMessage received, CancellationTokenSource lockLost, CancellationToken cancellationToken)
    {
        var timeout = queueOptions.Value.VisibilityTimeout;
        using var timer = new PeriodicTimer(timeout / 2, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await queues.RenewLockAsync(received, cancellationToken);
                    lockLost.CancelAfter(timeout);
                }
                catch (MessageLockLostException)
                {
                    await lockLost.CancelAsync();
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Tried again at the next tick; if the lock lapses first, the handler's work is cancelled.
                    logger.LogWarning(ex, "Could not renew the lock on {MessageId} on {Queue}", received.Message.MessageId, received.Queue);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
