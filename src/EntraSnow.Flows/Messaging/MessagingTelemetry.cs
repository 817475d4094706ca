using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EntraSnow.Flows.Messaging;

/// <summary>
/// The spans and counters of the queues (ActivitySource and Meter <c>EntraSnow.Messaging</c>): a producer span per
/// write, a consumer span per delivery, and how each delivery ended. Every span carries the correlation id, so a change
/// can be followed from its intake request to the ticket it produced, in one trace.
/// </summary>
public static class MessagingTelemetry
{
    public const string Name = "EntraSnow.Messaging";

    /// <summary>The attribute every EntraSnow span carries: the correlation id of the change (DESIGN.md).</summary>
    public const string CorrelationIdTag = "entrasnow.correlation_id";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Processed = Meter.CreateCounter<long>(
        "entrasnow.messages.processed", description: "Deliveries handled, by queue and outcome (completed, rescheduled, dead_lettered).");

    /// <summary>A write of messages to a queue; a queue port stamps its id on the messages so the consumer continues the trace.</summary>
    public static Activity? StartSend(string queue, IReadOnlyList<ChangeMessage> messages)
    {
        var activity = ActivitySource.StartActivity($"send {queue}", ActivityKind.Producer);
        if (activity is not null)
        {
            activity.SetTag("messaging.destination.name", queue);
            activity.SetTag("messaging.batch.message_count", messages.Count);
            var correlationIds = messages.Select(m => m.CorrelationId).Distinct(StringComparer.Ordinal).ToList();
            if (correlationIds.Count == 1)
            {
                activity.SetTag(CorrelationIdTag, correlationIds[0]);
            }
        }

        return activity;
    }

    /// <summary>
    /// The handling of one delivery. <paramref name="sentFrom"/> is the producer span the message carried: when the
    /// current activity is not already in its trace, the delivery continues that trace and links the current one.
    /// </summary>
    public static Activity? StartProcess(string queue, ChangeMessage message, ActivityContext sentFrom = default)
    {
        var current = Activity.Current;
        var continues = sentFrom != default && current?.TraceId != sentFrom.TraceId;
        var activity = continues
            ? ActivitySource.StartActivity($"process {queue}", ActivityKind.Consumer, sentFrom,
                links: current is null ? null : [new ActivityLink(current.Context)])
            : ActivitySource.StartActivity($"process {queue}", ActivityKind.Consumer);
        activity?.SetTag("messaging.destination.name", queue);
        activity?.SetTag("messaging.message.id", message.MessageId);
        activity?.SetTag(CorrelationIdTag, message.CorrelationId);
        return activity;
    }

    public static void Outcome(string queue, MessageDisposition disposition, Activity? activity)
    {
        var outcome = disposition switch
        {
            MessageDisposition.Complete => "completed",
            MessageDisposition.Reschedule => "rescheduled",
            _ => "dead_lettered",
        };
        activity?.SetTag("entrasnow.outcome", outcome);
        if (disposition is MessageDisposition.DeadLetter)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "dead-lettered");
        }

        Processed.Add(1, new KeyValuePair<string, object?>("queue", queue), new KeyValuePair<string, object?>("outcome", outcome));
    }
}
