using System.Text;
using Amqp;
using Amqp.Framing;
using Amqp.Types;

namespace EntraSnow.Functions.Tests.ServiceBusAmqp;

/// <summary>A message as the loopback namespace holds it: what a receiver would get from Service Bus.</summary>
internal sealed record HeldMessage(
    string Queue,
    long SequenceNumber,
    string? MessageId,
    string? SessionId,
    string? CorrelationId,
    string? Subject,
    string? ContentType,
    string Body,
    IReadOnlyDictionary<string, object?> ApplicationProperties,
    DateTimeOffset? ScheduledFor)
{
    private static readonly Symbol ScheduledEnqueueTime = new("x-opt-scheduled-enqueue-time");

    public static HeldMessage From(string queue, Message message, long sequenceNumber, DateTimeOffset? scheduledFor)
    {
        var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (message.ApplicationProperties is { } application)
        {
            foreach (var key in application.Map.Keys)
            {
                properties[key.ToString()!] = application.Map[key];
            }
        }

        if (scheduledFor is null && message.MessageAnnotations?[ScheduledEnqueueTime] is DateTime at)
        {
            scheduledFor = new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc));
        }

        return new HeldMessage(queue, sequenceNumber, message.Properties?.GetMessageId()?.ToString(), message.Properties?.GroupId,
            message.Properties?.GetCorrelationId()?.ToString(), message.Properties?.Subject, message.Properties?.ContentType,
            BodyText(message), properties, scheduledFor);
    }

    private static string BodyText(Message message) => message.BodySection switch
    {
        Data data => Encoding.UTF8.GetString(data.Binary),
        DataList list => string.Concat(Enumerable.Range(0, list.Count).Select(i => Encoding.UTF8.GetString(list[i].Binary))),
        AmqpValue value => value.Value?.ToString() ?? string.Empty,
        _ => string.Empty,
    };
}

/// <summary>
/// A batch the SDK sends is one AMQP message whose data sections each hold one encoded message; an encoded message
/// starts with a described section (0x00), which a JSON body never does.
/// </summary>
internal static class BatchedMessages
{
    public static IEnumerable<Message> Unpack(Message transfer)
    {
        var sections = transfer.BodySection switch
        {
            Data data => [data],
            DataList list => Enumerable.Range(0, list.Count).Select(i => list[i]).ToList(),
            _ => [],
        };
        if (sections.Count == 0 || sections.Any(s => s.Binary is not [0x00, ..]))
        {
            return [transfer];
        }

        return sections.Select(s => Decode(s.Binary)).ToList();
    }

    public static Message Decode(byte[] encoded) => Message.Decode(new ByteBuffer(encoded, 0, encoded.Length, encoded.Length));
}
