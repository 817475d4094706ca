// Stand-ins, declared to match the public surface of Azure.Messaging.ServiceBus 7.x (the members the app uses).
namespace Azure.Messaging.ServiceBus;

/// <summary>Stand-in for Azure.Messaging.ServiceBus.ServiceBusReceivedMessage.</summary>
public class ServiceBusReceivedMessage
{
    internal ServiceBusReceivedMessage()
    {
    }

    public BinaryData Body { get; internal set; } = BinaryData.Empty;

    public string MessageId { get; internal set; } = string.Empty;

    public string? SessionId { get; internal set; }

    public string? CorrelationId { get; internal set; }

    public string? Subject { get; internal set; }

    public string? ContentType { get; internal set; }

    public int DeliveryCount { get; internal set; }

    public string LockToken { get; internal set; } = string.Empty;

    public long SequenceNumber { get; internal set; }

    public DateTimeOffset EnqueuedTime { get; internal set; }

    public DateTimeOffset ScheduledEnqueueTime { get; internal set; }

    public IReadOnlyDictionary<string, object> ApplicationProperties { get; internal set; } = new Dictionary<string, object>();
}

/// <summary>Stand-in for Azure.Messaging.ServiceBus.ServiceBusModelFactory (the overload tests use).</summary>
public static class ServiceBusModelFactory
{
    public static ServiceBusReceivedMessage ServiceBusReceivedMessage(
        BinaryData? body = null,
        string? messageId = null,
        string? sessionId = null,
        string? replyToSessionId = null,
        TimeSpan timeToLive = default,
        string? correlationId = null,
        string? subject = null,
        string? to = null,
        string? contentType = null,
        string? replyTo = null,
        DateTimeOffset scheduledEnqueueTime = default,
        IDictionary<string, object>? properties = null,
        Guid lockTokenGuid = default,
        int deliveryCount = default,
        DateTimeOffset lockedUntil = default,
        long sequenceNumber = -1,
        string? deadLetterSource = null,
        long enqueuedSequenceNumber = default,
        DateTimeOffset enqueuedTime = default)
    {
        _ = replyToSessionId;
        _ = timeToLive;
        _ = to;
        _ = replyTo;
        _ = lockedUntil;
        _ = deadLetterSource;
        _ = enqueuedSequenceNumber;
        return new ServiceBusReceivedMessage
        {
            Body = body ?? BinaryData.Empty,
            MessageId = messageId ?? string.Empty,
            SessionId = sessionId,
            CorrelationId = correlationId,
            Subject = subject,
            ContentType = contentType,
            ScheduledEnqueueTime = scheduledEnqueueTime,
            ApplicationProperties = new Dictionary<string, object>(properties ?? new Dictionary<string, object>()),
            LockToken = lockTokenGuid.ToString(),
            DeliveryCount = deliveryCount,
            SequenceNumber = sequenceNumber,
            EnqueuedTime = enqueuedTime,
        };
    }
}
