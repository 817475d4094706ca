// Stand-ins, declared to match the public surface of Microsoft.Azure.Functions.Worker(.Extensions.*) 2.x.
using Azure.Messaging.ServiceBus;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.TimerInfo.</summary>
public class TimerInfo
{
    public ScheduleStatus? ScheduleStatus { get; set; }

    public bool IsPastDue { get; set; }
}

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.ScheduleStatus.</summary>
public class ScheduleStatus
{
    public DateTime Last { get; set; }

    public DateTime Next { get; set; }

    public DateTime LastUpdated { get; set; }
}

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.FunctionContext (the members the app uses).</summary>
public abstract class FunctionContext
{
    public abstract string InvocationId { get; }

    public abstract string FunctionId { get; }

    public abstract IServiceProvider InstanceServices { get; set; }

    public abstract IDictionary<object, object> Items { get; set; }

    public virtual CancellationToken CancellationToken { get; } = CancellationToken.None;
}

/// <summary>
/// Stand-in for Microsoft.Azure.Functions.Worker.ServiceBusMessageActions (Extensions.ServiceBus 5.x): virtual members and a
/// protected constructor for mocking, as in the real type.
/// </summary>
public class ServiceBusMessageActions
{
    protected ServiceBusMessageActions()
    {
    }

    public virtual Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Stand-in: settlement needs the Functions host.");

    public virtual Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = default, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Stand-in: settlement needs the Functions host.");

    public virtual Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, Dictionary<string, object>? propertiesToModify = default,
        string? deadLetterReason = default, string? deadLetterErrorDescription = default, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Stand-in: settlement needs the Functions host.");

    public virtual Task DeferMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = default, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Stand-in: settlement needs the Functions host.");

    public virtual Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Stand-in: settlement needs the Functions host.");
}
