namespace EntraSnow.Flows.Messaging;

/// <summary>
/// The queue port. A completed call means the messages are durably stored; any failure throws.
/// Sending a message id that is already queued is not an error (duplicate detection drops it).
/// </summary>
public interface IMessageQueue
{
    Task SendAsync(string queue, IReadOnlyList<ChangeMessage> messages, CancellationToken cancellationToken = default);

    /// <summary>Stores a message that becomes visible to consumers only at <paramref name="visibleAt"/>.</summary>
    Task ScheduleAsync(string queue, ChangeMessage message, DateTimeOffset visibleAt, CancellationToken cancellationToken = default);
}
