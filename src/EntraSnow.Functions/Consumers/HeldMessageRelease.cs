using System.Globalization;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Messaging;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Functions.Consumers;

/// <summary>
/// Work held for a paused connector, in Azure. Service Bus cannot bring a scheduled message forward, so each held
/// message is a copy scheduled for the connector's next probe and recorded with its sequence number in Table storage
/// (<see cref="IHeldCopies"/>). When a probe succeeds, the instance that saw it releases them at once: for each, a
/// replacement (the copy's id with <c>~released</c>) is sent now, then the scheduled copy is cancelled. Sending first
/// means a release cut off half-way loses nothing; the record means that when both copies are delivered (the scheduled
/// one was activated before the cancel reached it), the first taken is processed and the other only completed.
/// The record failing never fails a delivery: a copy not recorded follows at its probe time, and a copy whose record
/// cannot be read is processed.
/// </summary>
internal sealed class HeldMessageRelease(ServiceBusQueue queues, IHeldCopies held, ILogger<HeldMessageRelease> logger)
{
    /// <summary>Copies one release sends at most: the rest follow at their probe time, at most Messaging:PausedRetryDelay later.</summary>
    internal const int MaxPerRelease = 500;

    /// <summary>Schedules the held copy for the connector's next probe and records it, so a release can send it sooner.</summary>
    public async Task HoldAsync(string queue, ChangeMessage copy, string connector, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var sequenceNumber = await queues.ScheduleForSequenceNumberAsync(queue, copy, until, cancellationToken);
        try
        {
            await held.RecordAsync(new HeldCopy(connector, queue, copy, sequenceNumber), cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Could not record held message {MessageId} on {Queue}; it follows at its probe time {Until}", copy.MessageId, queue, until);
        }
    }

    /// <summary>
    /// Whether this delivery is a held copy or replacement whose other copy was taken first (then it is only completed);
    /// <paramref name="sequenceNumber"/> is the delivered message's own.
    /// </summary>
    public async Task<bool> TakenElsewhereAsync(ChangeMessage message, long sequenceNumber, CancellationToken cancellationToken)
    {
        if (message.Property(IHeldCopies.HeldForProperty) is not { } connector)
        {
            return false;
        }

        var replacement = message.MessageId.EndsWith(IHeldCopies.ReleasedSuffix, StringComparison.Ordinal);
        var holdId = replacement ? message.MessageId[..^IHeldCopies.ReleasedSuffix.Length] : message.MessageId;
        try
        {
            return !await held.TakeAsync(connector, holdId, sequenceNumber.ToString(CultureInfo.InvariantCulture), replacement, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Could not read the record of held message {MessageId}; processing it (at worst a read repeated, never a change lost)", message.MessageId);
            return false;
        }
    }

    /// <summary>Sends the work held for <paramref name="connectors"/> now, their pause lifted by this instance's probe.</summary>
    public async Task ReleaseAsync(IReadOnlyCollection<string> connectors, CancellationToken cancellationToken)
    {
        foreach (var connector in connectors)
        {
            try
            {
                var copies = await held.ClaimForReleaseAsync(connector, MaxPerRelease, cancellationToken);
                foreach (var queue in copies.GroupBy(c => c.Queue, StringComparer.Ordinal))
                {
                    await queues.SendAsync(queue.Key, [.. queue.Select(c => c.Message with { MessageId = c.Message.MessageId + IHeldCopies.ReleasedSuffix })], cancellationToken);
                    foreach (var copy in queue)
                    {
                        var cancelled = await queues.CancelScheduledAsync(queue.Key, copy.SequenceNumber, cancellationToken);
                        await held.ReleasedAsync(copy, cancelled, cancellationToken);
                    }
                }

                if (copies.Count > 0)
                {
                    logger.LogInformation("{Count} message(s) held for {Connector} follow now", copies.Count, connector);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Could not release the work held for {Connector}; it follows at its probe time", connector);
            }
        }
    }
}
