using EntraSnow.Flows.Messaging;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>A message taken from a queue and hidden from others until it is settled or its lock expires.</summary>
public sealed record ReceivedMessage(long Sequence, string Queue, string LockToken, int DeliveryCount, ChangeMessage Message)
{
    /// <summary>When it was taken: messages of its kind about the same object waiting since then are covered by its handling.</summary>
    public DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>One queue's counts, as <c>queues --json</c> prints them.</summary>
public sealed record QueueStats(string Queue, long Depth, long InFlight, long DeadLettered, long Scheduled);

public sealed record DeadLetter(long Sequence, string Queue, string MessageId, string Kind, string SubjectId, string CorrelationId,
    string Reason, string? Description, DateTimeOffset DeadLetteredAt, int DeliveryCount);

/// <summary>The lock was lost (expired and taken by another receiver): the settlement did nothing.</summary>
public sealed class MessageLockLostException(string lockToken)
    : Exception($"The lock {lockToken} is no longer held; the message will be (or was) delivered again.");
