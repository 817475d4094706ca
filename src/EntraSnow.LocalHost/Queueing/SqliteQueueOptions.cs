using System.ComponentModel.DataAnnotations;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>Settings under <c>LocalHost:Queues</c>: the local stand-in for Service Bus queue properties.</summary>
public sealed class SqliteQueueOptions
{
    public const string Section = "LocalHost:Queues";

    /// <summary>How long a received message stays hidden; if the process dies, it comes back after this (Service Bus: lock duration).</summary>
    [TimeSpanRange("00:00:01", "01:00:00")]
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Deliveries without completion before a message is dead-lettered (a message that crashes the process, say).</summary>
    [Range(1, 1000)]
    public int MaxDeliveryCount { get; set; } = 10;

    /// <summary>A message id seen within this window is dropped as a duplicate (Service Bus: duplicate detection history).</summary>
    [TimeSpanRange("00:00:00", "7.00:00:00")]
    public TimeSpan DuplicateDetectionWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Concurrent writes committed together in one transaction, at most.</summary>
    [Range(1, 10000)]
    public int MaxBatch { get; set; } = 512;
}
