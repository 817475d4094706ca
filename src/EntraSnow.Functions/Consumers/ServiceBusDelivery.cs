using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Messaging;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Functions.Consumers;

/// <summary>
/// Applies the shared <see cref="MessageProcessor"/> to one Service Bus delivery and settles it explicitly (the triggers
/// run with AutoCompleteMessages = false): complete; reschedule a copy with a growing delay and complete the original
/// (the isolated worker would otherwise abandon at once and burn the delivery count); or dead-letter with the reason.
/// Work held for a paused connector goes through <see cref="HeldMessageRelease"/> when the app has it (it does in
/// Azure), so it follows at once when a probe lifts the pause.
/// </summary>
internal sealed class ServiceBusDelivery(
    IEnumerable<IMessageHandler> handlers,
    MessageProcessor processor,
    IMessageQueue queue,
    ILogger<ServiceBusDelivery> logger,
    HeldMessageRelease? held = null)
{
    private readonly Dictionary<string, IMessageHandler> _handlers = handlers.ToDictionary(h => h.Queue, StringComparer.Ordinal);

    public async Task ProcessAsync(string queueName, ServiceBusReceivedMessage delivery, ServiceBusMessageActions actions, CancellationToken cancellationToken)
    {
        if (!_handlers.TryGetValue(queueName, out var handler))
        {
            throw new InvalidOperationException($"No handler is registered for queue '{queueName}'.");
        }

        ChangeMessage message;
        try
        {
            message = ChangeMessageJson.Deserialize(delivery.Body.ToMemory().Span);
        }
        catch (FormatException ex)
        {
            logger.LogWarning("Dead-lettering malformed message {MessageId} on {Queue}: {Reason}", delivery.MessageId, queueName, ex.Message);
            await actions.DeadLetterMessageAsync(delivery, null, "MalformedMessage", ex.Message, cancellationToken);
            return;
        }

        if (held is not null && await held.TakenElsewhereAsync(message, delivery.SequenceNumber, cancellationToken))
        {
            logger.LogDebug("{MessageId} on {Queue} is a copy of held work another copy of which was processed: completed without processing", delivery.MessageId, queueName);
            await actions.CompleteMessageAsync(delivery, cancellationToken);
            return;
        }

        var disposition = await processor.ProcessAsync(handler, message, cancellationToken, ServiceBusQueue.SentFrom(delivery));
        switch (disposition)
        {
            case MessageDisposition.Complete complete:
                await actions.CompleteMessageAsync(delivery, cancellationToken);
                if (complete.Resumed.Count > 0 && held is not null)
                {
                    // This message was the probe that lifted the pause: the work held for it follows now, not at its probe time.
                    await held.ReleaseAsync(complete.Resumed, cancellationToken);
                }

                break;
            case MessageDisposition.Reschedule r:
                // Store the retry before completing the original: if the process dies in between, the original is redelivered.
                var retry = message with
                {
                    Attempt = r.NextAttempt,
                    MessageId = RetryMessageId(message.MessageId, r.NextAttempt, r.WaitsFor is null ? null : r.VisibleAt),
                    Properties = HeldFor(message.Properties, r.WaitsFor),
                };
                if (r.WaitsFor is { } connector && held is not null)
                {
                    await held.HoldAsync(queueName, retry, connector, r.VisibleAt, cancellationToken);
                }
                else
                {
                    await queue.ScheduleAsync(queueName, retry, r.VisibleAt, cancellationToken);
                }

                await actions.CompleteMessageAsync(delivery, cancellationToken);
                break;
            case MessageDisposition.DeadLetter d:
                await actions.DeadLetterMessageAsync(delivery, null, d.Reason, d.Description, cancellationToken);
                break;
        }
    }

    /// <summary>A held copy names the connector it waits for (so its delivery finds its record); any other retry does not.</summary>
    private static IReadOnlyDictionary<string, string> HeldFor(IReadOnlyDictionary<string, string> properties, string? connector)
    {
        if (connector is null && !properties.ContainsKey(IHeldCopies.HeldForProperty))
        {
            return properties;
        }

        var copy = new Dictionary<string, string>(properties, StringComparer.Ordinal);
        copy.Remove(IHeldCopies.HeldForProperty);
        if (connector is not null)
        {
            copy[IHeldCopies.HeldForProperty] = connector;
        }

        return copy;
    }

    /// <summary>
    /// The retry is a new message to Service Bus (its duplicate detection would drop the same id), traceable to the original.
    /// A message held for a paused connector keeps its attempt, so its id also names the probe time it waits for: held
    /// again at the next probe, it would otherwise reuse the id within the detection window and be dropped.
    /// </summary>
    internal static string RetryMessageId(string messageId, int attempt, DateTimeOffset? heldUntil = null)
    {
        var marker = messageId.LastIndexOf("~retry", StringComparison.Ordinal);
        var original = marker >= 0 ? messageId[..marker] : messageId;
        return heldUntil is { } until ? $"{original}~retry{attempt}~held{until.ToUnixTimeMilliseconds()}" : $"{original}~retry{attempt}";
    }
}
