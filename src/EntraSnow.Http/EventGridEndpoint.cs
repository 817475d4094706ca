using EntraSnow.Flows.Intake;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Http;

/// <summary>
/// POST /api/eventgrid/graph on the local host: Graph events through an Event Grid partner topic as CloudEvents 1.0,
/// with the CloudEvents webhook validation handshake (OPTIONS). In Azure an EventGridTrigger function does this.
/// </summary>
public sealed class EventGridEndpoint(GraphNotificationIntake intake, ILogger<EventGridEndpoint> logger)
{
    /// <summary>CloudEvents webhook spec: echo the origin in WebHook-Allowed-Origin to permit delivery.</summary>
    public static IResult Handshake(HttpRequest request)
    {
        var origin = request.Headers["WebHook-Request-Origin"].ToString();
        if (origin.Length == 0 || origin.Length > 255 || origin.Any(char.IsControl))
        {
            return Problems.BadRequest("The OPTIONS handshake needs a WebHook-Request-Origin header.");
        }

        var response = request.HttpContext.Response;
        response.Headers["WebHook-Allowed-Origin"] = origin;
        response.Headers["WebHook-Allowed-Rate"] = "*";
        response.Headers.Allow = "POST, OPTIONS";
        return Results.Ok();
    }

    public async Task<IResult> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!RequestBody.IsJson(request, "application/cloudevents+json", "application/cloudevents-batch+json", "application/json"))
        {
            return Problems.BadRequest($"Content-Type must be application/cloudevents+json or application/cloudevents-batch+json, not '{request.ContentType ?? "(none)"}'.");
        }

        var body = await RequestBody.ReadAsync(request, RequestBody.MaxBytes, cancellationToken);
        if (body is null)
        {
            return Problems.TooLarge(RequestBody.MaxBytes);
        }

        IReadOnlyList<GraphCloudEvent> events;
        try
        {
            events = GraphCloudEvents.Parse(body);
            // Parse every event's data before queueing anything, so a bad batch leaves nothing behind.
            foreach (var e in events)
            {
                GraphCloudEvents.ToNotification(e);
            }
        }
        catch (NotificationFormatException ex)
        {
            return Problems.BadRequest(ex.Message);
        }

        var correlationId = CorrelationId.From(request);
        try
        {
            await intake.AcceptCloudEventsAsync(events, correlationId, cancellationToken);
            return Results.Accepted();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Could not queue CloudEvents batch {CorrelationId}", correlationId);
            return Problems.QueueUnavailable();
        }
    }
}
