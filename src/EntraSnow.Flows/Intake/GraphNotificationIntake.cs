using System.Diagnostics;
using System.Diagnostics.Metrics;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.Intake;

/// <summary>What the intake did with one notification collection.</summary>
public sealed record IntakeResult(int Queued, int RejectedClientState, int Dropped);

/// <summary>
/// Accepts Graph notifications: checks each item's clientState, routes it to its queue and writes it durably.
/// Does no Graph or ServiceNow call, so it answers well inside Graph's 3-second budget. Throws when the queue write
/// fails, so the caller answers 5xx and Graph retries.
/// </summary>
public sealed class GraphNotificationIntake(
    IMessageQueue queue,
    ClientStateCheck clientStateCheck,
    IntakeMetrics metrics,
    TimeProvider clock,
    ILogger<GraphNotificationIntake> logger)
{
    /// <summary>The same notifications delivered as CloudEvents through an Event Grid partner topic. Unknown event types are dropped.</summary>
    public Task<IntakeResult> AcceptCloudEventsAsync(IEnumerable<GraphCloudEvent> events, string correlationId, CancellationToken cancellationToken)
    {
        var notifications = new List<ChangeNotification>();
        var unknown = 0;
        foreach (var cloudEvent in events)
        {
            if (!GraphCloudEvents.KnownTypes.Contains(cloudEvent.Type))
            {
                unknown++;
                logger.LogInformation("Dropped a CloudEvent of unknown type {EventType}", cloudEvent.Type);
                continue;
            }

            notifications.Add(GraphCloudEvents.ToNotification(cloudEvent));
        }

        return AcceptAsync(notifications, correlationId, unknown, cancellationToken);
    }

    public Task<IntakeResult> AcceptAsync(IReadOnlyList<ChangeNotification> notifications, string correlationId, CancellationToken cancellationToken) =>
        AcceptAsync(notifications, correlationId, alreadyDropped: 0, cancellationToken);

    private async Task<IntakeResult> AcceptAsync(IReadOnlyList<ChangeNotification> notifications, string correlationId, int alreadyDropped, CancellationToken cancellationToken)
    {
        // A span of the request's trace (the correlation id is that trace's id unless the caller sent its own).
        using var activity = IntakeMetrics.ActivitySource.StartActivity("intake graph notifications");
        activity?.SetTag(MessagingTelemetry.CorrelationIdTag, correlationId);
        activity?.SetTag("entrasnow.intake.items", notifications.Count + alreadyDropped);
        var receivedAt = clock.GetUtcNow();
        var byQueue = new Dictionary<string, List<ChangeMessage>>(StringComparer.Ordinal);
        int rejected = 0, dropped = alreadyDropped;

        foreach (var item in notifications)
        {
            if (!clientStateCheck.IsAccepted(item.ClientState))
            {
                rejected++;
                // Never log the clientState received: it may be a near-miss of the real secret.
                logger.LogWarning("Dropped a notification for subscription {SubscriptionId} with a clientState that matches no configured secret",
                    item.SubscriptionId);
                continue;
            }

            var routed = NotificationRouter.Route(item, correlationId, receivedAt);
            if (routed.Queue is null || routed.Message is null)
            {
                dropped++;
                logger.LogInformation("Dropped a notification for subscription {SubscriptionId}: {Reason}", item.SubscriptionId, routed.DropReason);
                continue;
            }

            if (!byQueue.TryGetValue(routed.Queue, out var list))
            {
                byQueue[routed.Queue] = list = [];
            }

            list.Add(routed.Message);
        }

        metrics.Rejected(rejected);
        metrics.Dropped(dropped);

        var queued = 0;
        foreach (var (queueName, messages) in byQueue)
        {
            await queue.SendAsync(queueName, messages, cancellationToken);
            queued += messages.Count;
            metrics.Queued(queueName, messages.Count);
        }

        activity?.SetTag("entrasnow.intake.queued", queued);
        activity?.SetTag("entrasnow.intake.client_state_rejected", rejected);
        activity?.SetTag("entrasnow.intake.dropped", dropped);
        return new IntakeResult(queued, rejected, dropped);
    }
}

/// <summary>
/// Intake counters (OpenTelemetry meter <c>EntraSnow.Intake</c>): queued per queue, clientState mismatches, dropped
/// items; and the intake's span (ActivitySource of the same name).
/// </summary>
public sealed class IntakeMetrics : IDisposable
{
    public const string MeterName = "EntraSnow.Intake";

    public const string QueuedMetric = "entrasnow.intake.queued";

    public const string ClientStateRejectedMetric = "entrasnow.intake.client_state_rejected";

    public const string DroppedMetric = "entrasnow.intake.dropped";

    public static readonly ActivitySource ActivitySource = new(MeterName);

    private readonly Meter _meter;
    private readonly Counter<long> _queued;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _dropped;

    public IntakeMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _queued = _meter.CreateCounter<long>(QueuedMetric, description: "Notifications durably queued.");
        _rejected = _meter.CreateCounter<long>(ClientStateRejectedMetric, description: "Notifications dropped because their clientState matched no configured secret.");
        _dropped = _meter.CreateCounter<long>(DroppedMetric, description: "Notifications dropped as unknown or unusable.");
    }

    public void Queued(string queue, int count)
    {
        if (count > 0)
        {
            _queued.Add(count, new KeyValuePair<string, object?>(MessagingTelemetry.QueueTag, queue));
        }
    }

    public void Rejected(int count)
    {
        if (count > 0)
        {
            _rejected.Add(count);
        }
    }

    public void Dropped(int count)
    {
        if (count > 0)
        {
            _dropped.Add(count);
        }
    }

    public void Dispose() => _meter.Dispose();
}
