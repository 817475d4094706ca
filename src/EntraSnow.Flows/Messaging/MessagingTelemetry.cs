using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EntraSnow.Flows.Messaging;

/// <summary>
/// The spans and counters of the queues (ActivitySource and Meter <c>EntraSnow.Messaging</c>): a producer span per
/// write, a consumer span per delivery, how each delivery ended, how long a change took from happening to being done, and
/// when a connector was paused. Every span carries the correlation id, so a change can be followed from its intake request
/// to the ticket it produced, in one trace. The metric and dimension names are what the Azure Monitor workbook and alerts
/// query (infra/app/workbook.bicep, alerts.bicep): a test holds them to these constants.
/// </summary>
public static class MessagingTelemetry
{
    public const string Name = "EntraSnow.Messaging";

    /// <summary>The attribute every EntraSnow span carries: the correlation id of the change (DESIGN.md).</summary>
    public const string CorrelationIdTag = "entrasnow.correlation_id";

    public static readonly ActivitySource ActivitySource = new(Name);

    public const string ProcessedMetric = "entrasnow.messages.processed";

    public const string ChangeLatencyMetric = "entrasnow.messages.change_latency";

    public const string ConnectorPausedMetric = "entrasnow.connectors.paused";

    public const string QueueTag = "queue";

    public const string OutcomeTag = "outcome";

    public const string KindTag = "kind";

    public const string ConnectorTag = "connector";

    public const string CompletedOutcome = "completed";

    public const string RescheduledOutcome = "rescheduled";

    public const string DeadLetteredOutcome = "dead_lettered";

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Processed = Meter.CreateCounter<long>(
        ProcessedMetric, description: "Deliveries handled, by queue and outcome (completed, rescheduled, dead_lettered).");

    private static readonly Histogram<double> ChangeLatency = Meter.CreateHistogram<double>(
        ChangeLatencyMetric, unit: "s", description: "From the change (the message's ChangedAt) to the completion of the delivery that handled it, by queue and kind.");

    private static readonly Counter<long> ConnectorPaused = Meter.CreateCounter<long>(
        ConnectorPausedMetric, description: "A connector paused because its credential was refused or could not be had, by connector and the queue that met it.");

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
            MessageDisposition.Complete => CompletedOutcome,
            MessageDisposition.Reschedule => RescheduledOutcome,
            _ => DeadLetteredOutcome,
        };
        activity?.SetTag("entrasnow.outcome", outcome);
        if (disposition is MessageDisposition.DeadLetter)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "dead-lettered");
        }

        Processed.Add(1, new KeyValuePair<string, object?>(QueueTag, queue), new KeyValuePair<string, object?>(OutcomeTag, outcome));
    }

    /// <summary>A delivery completed: how long after the change itself (retries and reschedules included).</summary>
    public static void Completed(string queue, ChangeMessage message, DateTimeOffset now) =>
        ChangeLatency.Record(Math.Max(0, (now - message.ChangedAt).TotalSeconds),
            new KeyValuePair<string, object?>(QueueTag, queue), new KeyValuePair<string, object?>(KindTag, message.Kind));

    /// <summary>A connector's pause began (counted once per pause, not per waiting message).</summary>
    public static void Paused(string connector, string queue) =>
        ConnectorPaused.Add(1, new KeyValuePair<string, object?>(ConnectorTag, connector), new KeyValuePair<string, object?>(QueueTag, queue));
}
