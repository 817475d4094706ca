using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Retention;
using EntraSnow.Functions.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Functions.Retention;

/// <summary>
/// The Functions app's part of retention: Service Bus keeps dead letters until someone receives them, so each queue's
/// dead-letter subqueue is read oldest first and the letters older than <c>Retention:DeadLetters</c> are completed
/// (deleted), at most <c>Retention:ServiceBusDeadLettersPerRun</c> per queue and run. The first younger letter ends that
/// queue's run: it and the rest of its batch are abandoned (a dead-letter subqueue has no delivery limit), so an operator
/// still sees them. A queue whose oldest letter is young is only peeked, never locked. Then the records of copies held
/// for a paused connector (<see cref="IHeldCopies"/>) older than the same cutoff go: their copies were delivered, or
/// expired and their dead letters are gone, so nothing can take the record any more.
/// </summary>
internal sealed class ServiceBusDeadLetterRetention(
    ServiceBusQueue queues,
    IHeldCopies heldCopies,
    IOptions<RetentionOptions> options,
    ILogger<ServiceBusDeadLetterRetention> logger)
    : IHostDataRetention
{
    /// <summary>Letters received at once; each must be settled within the queue's lock duration (1 minute in infra/).</summary>
    internal const int BatchSize = 100;

    /// <summary>How long a receive waits for letters the peek saw: they are there, so this is only the round trip's bound.</summary>
    private static readonly TimeSpan ReceiveWait = TimeSpan.FromSeconds(5);

    public async Task<int> PurgeAsync(DateTimeOffset deadLettersBefore, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var queue in QueueNames.All)
        {
            var purged = await PurgeQueueAsync(queue, deadLettersBefore, options.Value.ServiceBusDeadLettersPerRun, cancellationToken);
            if (purged.Deleted > 0 || purged.LimitReached)
            {
                logger.LogInformation("Deleted {Count} dead letter(s) of {Queue} enqueued before {Cutoff}{More}", purged.Deleted, queue, deadLettersBefore,
                    purged.LimitReached ? "; older ones are left for the next run (Retention:ServiceBusDeadLettersPerRun)" : string.Empty);
            }

            deleted += purged.Deleted;
        }

        var forgotten = await heldCopies.ForgetOlderThanAsync(deadLettersBefore, cancellationToken);
        if (forgotten > 0)
        {
            logger.LogInformation("Deleted {Count} record(s) of copies held for a paused connector last written before {Cutoff}", forgotten, deadLettersBefore);
        }

        return deleted;
    }

    private async Task<(int Deleted, bool LimitReached)> PurgeQueueAsync(string queue, DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        await using var receiver = queues.Client.CreateReceiver(queue, new ServiceBusReceiverOptions
        {
            SubQueue = SubQueue.DeadLetter,
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            PrefetchCount = 0,
        });

        if (await receiver.PeekMessageAsync(cancellationToken: cancellationToken) is not { } oldest || !IsOld(oldest, cutoff))
        {
            return (0, false);
        }

        var deleted = 0;
        while (deleted < limit)
        {
            var batch = await receiver.ReceiveMessagesAsync(Math.Min(BatchSize, limit - deleted), ReceiveWait, cancellationToken);
            if (batch.Count == 0)
            {
                return (deleted, false);
            }

            for (var i = 0; i < batch.Count; i++)
            {
                if (!IsOld(batch[i], cutoff))
                {
                    // Dead letters arrive in the order they were dead-lettered: the rest are as young or younger.
                    foreach (var young in batch.Skip(i))
                    {
                        await receiver.AbandonMessageAsync(young, cancellationToken: cancellationToken);
                    }

                    return (deleted, false);
                }

                await receiver.CompleteMessageAsync(batch[i], cancellationToken);
                deleted++;
            }
        }

        return (deleted, true);
    }

    /// <summary>
    /// A letter's age is its enqueue time's: a retry or a held copy is a new message, so that is its last delivery's, at
    /// most a lock duration before it was dead-lettered (Service Bus records no dead-lettering time).
    /// </summary>
    private static bool IsOld(ServiceBusReceivedMessage letter, DateTimeOffset cutoff) => letter.EnqueuedTime < cutoff;
}
