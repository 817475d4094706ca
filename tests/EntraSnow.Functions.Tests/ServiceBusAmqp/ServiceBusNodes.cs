using Amqp;
using Amqp.Framing;
using Amqp.Listener;
using Amqp.Types;

namespace EntraSnow.Functions.Tests.ServiceBusAmqp;

/// <summary>
/// <c>$cbs</c>: the claims-based security node. The client puts a token for each entity it opens (operation
/// <c>put-token</c>, the audience in <c>name</c>); the namespace answers 202 with the request's id as correlation id.
/// The loopback namespace accepts any token and remembers the audience.
/// </summary>
internal sealed class CbsNode(LoopbackServiceBus bus) : IRequestProcessor
{
    public const string Address = "$cbs";

    public int Credit => 100;

    public void Process(RequestContext requestContext)
    {
        var request = requestContext.Message;
        var operation = request.ApplicationProperties?["operation"] as string;
        if (operation != "put-token")
        {
            requestContext.Complete(Response.To(request, ("status-code", 400), ("status-description", $"Unknown operation '{operation}'.")));
            return;
        }

        bus.TokenAudiences.Enqueue(request.ApplicationProperties!["name"] as string ?? string.Empty);
        requestContext.Complete(Response.To(request, ("status-code", 202), ("status-description", "Accepted")));
    }
}

/// <summary>
/// <c>{queue}/$management</c>: the entity's request/response node. Only <c>com.microsoft:schedule-message</c> is
/// answered: each encoded message is held with its enqueue time and gets a sequence number, returned in order.
/// </summary>
internal sealed class ManagementNode(LoopbackServiceBus bus, string queue) : IRequestProcessor
{
    public const string ScheduleMessage = "com.microsoft:schedule-message";
    private static readonly Symbol ScheduledEnqueueTime = new("x-opt-scheduled-enqueue-time");

    public static string AddressOf(string queue) => $"{queue}/$management";

    public int Credit => 100;

    public void Process(RequestContext requestContext)
    {
        var request = requestContext.Message;
        var operation = request.ApplicationProperties?["operation"] as string;
        if (operation != ScheduleMessage || request.Body is not Map body || body["messages"] is not List messages)
        {
            requestContext.Complete(Response.To(request, ("statusCode", 400), ("statusDescription", $"Unsupported management request '{operation}'.")));
            return;
        }

        var sequenceNumbers = new List<long>();
        foreach (Map entry in messages)
        {
            var message = BatchedMessages.Decode((byte[])entry["message"]);
            var scheduledFor = message.MessageAnnotations?[ScheduledEnqueueTime] is DateTime at
                ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))
                : (DateTimeOffset?)null;
            bus.Hold(queue, message, scheduledFor);
            sequenceNumbers.Add(bus.LastSequenceNumber);
        }

        var response = Response.To(request, ("statusCode", 200), ("statusDescription", "OK"));
        response.BodySection = new AmqpValue { Value = new Map { ["sequence-numbers"] = sequenceNumbers.ToArray() } };
        requestContext.Complete(response);
    }
}

internal static class Response
{
    /// <summary>A response correlated to its request by the request's message id, as both nodes answer.</summary>
    public static Message To(Message request, params (string Name, object Value)[] status)
    {
        var response = new Message { Properties = new Properties(), ApplicationProperties = new ApplicationProperties() };
        response.Properties.SetCorrelationId(request.Properties?.GetMessageId());
        foreach (var (name, value) in status)
        {
            response.ApplicationProperties[name] = value;
        }

        return response;
    }
}
