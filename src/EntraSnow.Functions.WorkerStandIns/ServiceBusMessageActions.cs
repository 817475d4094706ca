// Stand-in declared from the public surface of Microsoft.Azure.Functions.Worker.Extensions.ServiceBus 5.x.
using Azure.Messaging.ServiceBus;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>
/// Stand-in for Microsoft.Azure.Functions.Worker.ServiceBusMessageActions: the settlement calls a Service Bus trigger makes
/// through the host. As in the real type, the members are virtual and the constructor is protected, for mocking; the
/// real one settles over the host's gRPC settlement service, which only the real extension brings.
/// </summary>
public class ServiceBusMessageActions
{
    protected ServiceBusMessageActions()
    {
    }

    public virtual Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) =>
        throw NeedsTheRealExtension();

    public virtual Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = default, CancellationToken cancellationToken = default) =>
        throw NeedsTheRealExtension();

    public virtual Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, Dictionary<string, object>? propertiesToModify = default,
        string? deadLetterReason = default, string? deadLetterErrorDescription = default, CancellationToken cancellationToken = default) =>
        throw NeedsTheRealExtension();

    public virtual Task DeferMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = default, CancellationToken cancellationToken = default) =>
        throw NeedsTheRealExtension();

    public virtual Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) =>
        throw NeedsTheRealExtension();

    private static NotSupportedException NeedsTheRealExtension() =>
        new("Settling a Service Bus message needs Microsoft.Azure.Functions.Worker.Extensions.ServiceBus (build with FunctionsServiceBusExtensions=Real).");
}
