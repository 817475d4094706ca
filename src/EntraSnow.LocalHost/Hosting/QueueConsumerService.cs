using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Queueing;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>
/// Runs every registered <see cref="IMessageHandler"/> against its SQLite queue, the local counterpart of the Functions
/// app's ServiceBusTrigger functions: the same <see cref="MessageProcessor"/> decides each message's fate, and this
/// class only applies it with the local queue's verbs.
/// </summary>
internal sealed class QueueConsumerService(
    SqliteQueueStore queues,
    IEnumerable<IMessageHandler> handlers,
    MessageProcessor processor,
    IOptions<LocalHostOptions> options,
    IOptions<SqliteQueueOptions> queueOptions,
    TimeProvider clock,
    ILogger<QueueConsumerService> logger) : BackgroundService
{
    private static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(30);

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

        var workers = new List<Task>();
        foreach (var group in byQueue)
        {
            for (var i = 0; i < options.Value.ConsumerConcurrency; i++)
            {
                workers.Add(Task.Run(() => ConsumeAsync(group.Single(), stoppingToken), stoppingToken));
            }
        }

        workers.Add(Task.Run(() => PurgeDedupeAsync(stoppingToken), stoppingToken));
        logger.LogInformation("Consuming {Queues} with {Concurrency} workers each", string.Join(", ", byQueue.Select(g => g.Key)), options.Value.ConsumerConcurrency);
        return Task.WhenAll(workers);
    }

    private async Task ConsumeAsync(IMessageHandler handler, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var received = await queues.ReceiveAsync(handler.Queue, stoppingToken);
                if (received is null)
                {
                    await queues.WaitForWorkAsync(handler.Queue, IdleWait, stoppingToken);
                    continue;
                }

                await ProcessAsync(handler, received, stoppingToken);
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
        using var renewal = new CancellationTokenSource();
        var renewing = RenewWhileProcessingAsync(received, renewal.Token);
        MessageDisposition disposition;
        try
        {
            disposition = await processor.ProcessAsync(handler, received.Message, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await renewal.CancelAsync();
            await renewing;
            await queues.AbandonAsync(received, CancellationToken.None);
            throw;
        }

        await renewal.CancelAsync();
        await renewing;
        try
        {
            switch (disposition)
            {
                case MessageDisposition.Complete:
                    await queues.CompleteAsync(received, CancellationToken.None);
                    break;
                case MessageDisposition.Reschedule r:
                    await queues.RescheduleAsync(received, r.VisibleAt, r.NextAttempt, CancellationToken.None);
                    break;
                case MessageDisposition.DeadLetter d:
                    await queues.DeadLetterAsync(received, d.Reason, d.Description, CancellationToken.None);
                    break;
            }
        }
        catch (MessageLockLostException ex)
        {
            logger.LogWarning(ex, "Settling {MessageId} on {Queue} came too late; it will be processed again (harmless: handlers are idempotent)",
                received.Message.MessageId, received.Queue);
        }
    }

    private async Task RenewWhileProcessingAsync(ReceivedMessage received, CancellationToken cancellationToken)
    {
        var period = queueOptions.Value.VisibilityTimeout / 2;
        try
        {
            using var timer = new PeriodicTimer(period, clock);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await queues.RenewLockAsync(received, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (MessageLockLostException)
        {
        }
    }

    private async Task PurgeDedupeAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(5), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await queues.PurgeExpiredDedupeAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
