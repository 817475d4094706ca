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

    public Task<IResult> HandleAsync(HttpRequest request, CancellationToken cancellationToken) =>
        IntakeRequest.AcceptAsync(
            request,
            ["application/cloudevents+json", "application/cloudevents-batch+json", "application/json"],
            body =>
            {
                var events = GraphCloudEvents.Parse(body);
                // Read every event's data now, so a batch with one bad event is refused whole.
                foreach (var e in events)
                {
                    GraphCloudEvents.ToNotification(e);
                }

                return events;
            },
            (events, correlationId) => intake.AcceptCloudEventsAsync(events, correlationId, cancellationToken),
            logger,
            cancellationToken);
}
