using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Functions.Messaging;

/// <summary>
/// The queue port in Azure, on the Service Bus SDK: one sender per queue from the app's one client, messages sent in
/// as few batches as fit, retries scheduled. Every message carries its dedupe key as MessageId (the queues' duplicate
/// detection drops a resend) and its object as SessionId (one object's messages are processed one at a time). A send
/// that has not succeeded within ServiceBus:SendTimeout throws a TimeoutException, so the HTTP intake answers 503 and
/// Graph retries, instead of Graph's request waiting on the SDK's own retries. It owns the client (and so its
/// connection and senders) and closes it when the host stops.
/// </summary>
internal sealed class ServiceBusQueue(ServiceBusClient client, IOptions<ServiceBusOptions> options, TimeProvider clock) : IMessageQueue, IAsyncDisposable, IDisposable
{
    private readonly ConcurrentDictionary<string, ServiceBusSender> _senders = new(StringComparer.Ordinal);

    public Task SendAsync(string queue, IReadOnlyList<ChangeMessage> messages, CancellationToken cancellationToken = default) =>
        WithinBudgetAsync(queue, async (sender, token) =>
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
        WithinBudgetAsync(queue, (sender, token) => sender.ScheduleMessageAsync(ToServiceBus(message), visibleAt, token), cancellationToken);

    internal static ServiceBusMessage ToServiceBus(ChangeMessage message) => new(ChangeMessageJson.Serialize(message))
    {
        MessageId = message.MessageId,
        SessionId = message.SessionKey,
        CorrelationId = message.CorrelationId,
        Subject = message.Kind,
        ContentType = "application/json",
        ApplicationProperties = { ["kind"] = message.Kind, ["subjectId"] = message.SubjectId },
    };

    private async Task WithinBudgetAsync(string queue, Func<ServiceBusSender, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        var budget = options.Value.SendTimeout;
        using var timeout = new CancellationTokenSource(budget, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await send(_senders.GetOrAdd(queue, client.CreateSender), linked.Token);
        }
        catch (Exception ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested
                                   && ex is OperationCanceledException or ServiceBusException { Reason: ServiceBusFailureReason.ServiceTimeout })
        {
            throw new TimeoutException($"Service Bus did not accept the write to '{queue}' within {budget.TotalSeconds:0.#} s (ServiceBus:SendTimeout).", ex);
        }
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();

    /// <summary>For a container disposed synchronously (the Functions host disposes asynchronously).</summary>
    public void Dispose() => client.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
