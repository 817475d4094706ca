using System.Text.Json;

namespace EntraSnow.Flows.Intake;

/// <summary>One CloudEvent as delivered by an Event Grid partner topic: its type, subject and the Graph notification in its data.</summary>
public sealed record GraphCloudEvent(string Type, string? Subject, ReadOnlyMemory<byte> Data);

/// <summary>
/// Graph notifications delivered through an Event Grid partner topic (CloudEvents 1.0): the data of each event is the
/// same notification item a webhook receives, so it goes through the same checks and lands in the same queues.
/// </summary>
public static class GraphCloudEvents
{
    /// <summary>Event types Graph publishes to partner topics.</summary>
    public static IReadOnlySet<string> KnownTypes { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "Microsoft.Graph.UserUpdated",
        "Microsoft.Graph.UserDeleted",
        "Microsoft.Graph.GroupUpdated",
        "Microsoft.Graph.GroupDeleted",
        "Microsoft.Graph.SubscriptionReauthorizationRequired",
        "Microsoft.Graph.SubscriptionRemoved",
        "Microsoft.Graph.SubscriptionMissed",
    };

    /// <summary>Reads the notification an event carries; lifecycle event types fill in a missing lifecycleEvent.</summary>
    public static ChangeNotification ToNotification(GraphCloudEvent cloudEvent)
    {
        var item = NotificationParser.ParseItem(cloudEvent.Data.Span);
        if (string.IsNullOrEmpty(item.LifecycleEvent))
        {
            item.LifecycleEvent = cloudEvent.Type switch
            {
                var t when t.Equals("Microsoft.Graph.SubscriptionReauthorizationRequired", StringComparison.OrdinalIgnoreCase) => "reauthorizationRequired",
                var t when t.Equals("Microsoft.Graph.SubscriptionRemoved", StringComparison.OrdinalIgnoreCase) => "subscriptionRemoved",
                var t when t.Equals("Microsoft.Graph.SubscriptionMissed", StringComparison.OrdinalIgnoreCase) => "missed",
                _ => null,
            };
        }

        if (string.IsNullOrEmpty(item.Resource) && item.ResourceData is null && !string.IsNullOrEmpty(cloudEvent.Subject))
        {
            item.Resource = cloudEvent.Subject;
        }

        return item;
    }

    /// <summary>
    /// Parses a structured CloudEvents body: one event (<c>application/cloudevents+json</c>) or a batch
    /// (<c>application/cloudevents-batch+json</c>, a JSON array).
    /// </summary>
    public static IReadOnlyList<GraphCloudEvent> Parse(ReadOnlySpan<byte> utf8Json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray());
        }
        catch (JsonException ex)
        {
            throw new NotificationFormatException($"The body is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            var events = new List<GraphCloudEvent>();
            switch (document.RootElement.ValueKind)
            {
                case JsonValueKind.Array:
                    foreach (var element in document.RootElement.EnumerateArray())
                    {
                        events.Add(ParseOne(element));
                    }

                    break;
                case JsonValueKind.Object:
                    events.Add(ParseOne(document.RootElement));
                    break;
                default:
                    throw new NotificationFormatException("The body is neither a CloudEvent nor a batch of them.");
            }

            return events;
        }
    }

    private static GraphCloudEvent ParseOne(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new NotificationFormatException("Each CloudEvent must be a JSON object.");
        }

        string Required(string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
                ? text
                : throw new NotificationFormatException($"A CloudEvent is missing its '{name}' attribute.");

        if (Required("specversion") != "1.0")
        {
            throw new NotificationFormatException("Only CloudEvents specversion 1.0 is accepted.");
        }

        Required("id");
        Required("source");
        var type = Required("type");
        var subject = element.TryGetProperty("subject", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;

        ReadOnlyMemory<byte> data;
        if (element.TryGetProperty("data", out var dataElement) && dataElement.ValueKind == JsonValueKind.Object)
        {
            data = JsonSerializer.SerializeToUtf8Bytes(dataElement);
        }
        else if (element.TryGetProperty("data_base64", out var base64) && base64.ValueKind == JsonValueKind.String)
        {
            try
            {
                data = Convert.FromBase64String(base64.GetString()!);
            }
            catch (FormatException ex)
            {
                throw new NotificationFormatException("A CloudEvent's data_base64 is not base64.", ex);
            }
        }
        else
        {
            throw new NotificationFormatException($"The CloudEvent of type '{type}' carries no data.");
        }

        return new GraphCloudEvent(type, subject, data);
    }
}
