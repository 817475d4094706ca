using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Functions.Messaging;

/// <summary>
/// The queue port in Azure, on the Service Bus SDK: one sender per queue from the app's one client, messages sent in
/// as few batches as fit, retries scheduled. Every message carries its dedupe key as MessageId (the queues' duplicate
/// detection drops a resend) and its object as SessionId (one object's messages are processed one at a time). A send
/// that has not succeeded within ServiceBus:SendTimeout throws a TimeoutException, so the HTTP intake answers 503 and
/// Graph retries, instead of Graph's request waiting on the SDK's own retries. Each write is a producer span whose id
/// every message carries as its Diagnostic-Id, so the consumer continues the same trace. It owns the client (and so its
/// connection and senders) and closes it when the host stops.
/// </summary>
internal sealed class ServiceBusQueue(ServiceBusClient client, IOptions<ServiceBusOptions> options, TimeProvider clock) : IMessageQueue, IAsyncDisposable, IDisposable
{
    /// <summary>The application property Service Bus tooling and the Functions trigger read a message's trace parent from (W3C traceparent).</summary>
    public const string DiagnosticIdProperty = "Diagnostic-Id";

    private readonly ConcurrentDictionary<string, ServiceBusSender> _senders = new(StringComparer.Ordinal);

    /// <summary>The app's one client (and connection): retention receives the queues' dead letters through it.</summary>
    internal ServiceBusClient Client => client;

    public Task SendAsync(string queue, IReadOnlyList<ChangeMessage> messages, CancellationToken cancellationToken = default) =>
        WithinBudgetAsync(queue, messages, async (sender, token) =>
        {
            var pending = messages.Select(ToServiceBus).ToList();
            while (pending.Count > 0)
            {
                using var batch = await sender.CreateMessageBatchAsync(token);
                var added = pending.TakeWhile(batch.TryAddMessage).Count();
                if (added == 0)
                {
                    throw new InvalidOperationException($"Message {pending[0].MessageId} is larger than a Service Bus batch allows on '{queue}'.");
                }

                await sender.SendMessagesAsync(batch, token);
                pending.RemoveRange(0, added);
            }
        }, cancellationToken);

    public Task ScheduleAsync(string queue, ChangeMessage message, DateTimeOffset visibleAt, CancellationToken cancellationToken = default) =>
        ScheduleForSequenceNumberAsync(queue, message, visibleAt, cancellationToken);

    /// <summary>Schedules the message as <see cref="ScheduleAsync"/> does; returns its sequence number, which can cancel it.</summary>
    internal async Task<long> ScheduleForSequenceNumberAsync(string queue, ChangeMessage message, DateTimeOffset visibleAt, CancellationToken cancellationToken = default)
    {
        var sequenceNumber = 0L;
        await WithinBudgetAsync(queue, [message], async (sender, token) => sequenceNumber = await sender.ScheduleMessageAsync(ToServiceBus(message), visibleAt, token), cancellationToken);
        return sequenceNumber;
    }

    /// <summary>
    /// Cancels a scheduled message: true when it will never be delivered, false when Service Bus no longer holds it as
    /// scheduled (it was activated at its time, or cancelled before).
    /// </summary>
    internal async Task<bool> CancelScheduledAsync(string queue, long sequenceNumber, CancellationToken cancellationToken = default)
    {
        try
        {
            await _senders.GetOrAdd(queue, client.CreateSender).CancelScheduledMessageAsync(sequenceNumber, cancellationToken);
            return true;
        }
        catch (ServiceBusException ex) when (ex.Reason == ServiceBusFailureReason.MessageNotFound)
        {
            return false;
        }
    }

    /// <summary>The message as Service Bus carries it; called inside the write's span, whose id becomes its Diagnostic-Id.</summary>
    internal static ServiceBusMessage ToServiceBus(ChangeMessage message)
    {
        var sent = new ServiceBusMessage(ChangeMessageJson.Serialize(message))
        {
            MessageId = message.MessageId,
            SessionId = message.SessionKey,
            CorrelationId = message.CorrelationId,
            Subject = message.Kind,
            ContentType = "application/json",
            ApplicationProperties = { ["kind"] = message.Kind, ["subjectId"] = message.SubjectId },
        };
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } current)
        {
            sent.ApplicationProperties[DiagnosticIdProperty] = current.Id;
        }

        return sent;
    }

    /// <summary>The producer span a delivered message carries, or none.</summary>
    internal static ActivityContext SentFrom(ServiceBusReceivedMessage delivery) =>
        delivery.ApplicationProperties.TryGetValue(DiagnosticIdProperty, out var id) && id is string traceParent
        && ActivityContext.TryParse(traceParent, null, out var context)
            ? context
            : default;

    private async Task WithinBudgetAsync(string queue, IReadOnlyList<ChangeMessage> messages, Func<ServiceBusSender, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        using var activity = MessagingTelemetry.StartSend(queue, messages);
        var budget = options.Value.SendTimeout;
        using var timeout = new CancellationTokenSource(budget, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await send(_senders.GetOrAdd(queue, client.CreateSender), linked.Token);
        }
        catch (Exception ex) when (Failed(activity, ex) && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested
                                   && ex is OperationCanceledException or ServiceBusException { Reason: ServiceBusFailureReason.ServiceTimeout })
        {
            throw new TimeoutException($"Service Bus did not accept the write to '{queue}' within {budget.TotalSeconds:0.#} s (ServiceBus:SendTimeout).", ex);
        }
    }

    /// <summary>Marks the write's span failed (an exception filter, so it sees every failure and catches none).</summary>
    private static bool Failed(Activity? activity, Exception ex)
    {
        activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
        return true;
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();

    /// <summary>For a container disposed synchronously (the Functions host disposes asynchronously).</summary>
    public void Dispose() => client.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
