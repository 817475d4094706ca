using Azure.Messaging;
using EntraSnow.Flows.Intake;
using EntraSnow.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Functions.Intake;

/// <summary>
/// Graph change notifications into the queues. Anonymous at the Functions level: Graph cannot send a function key
/// header, and every item is checked against the clientState secret instead.
/// </summary>
internal sealed class GraphNotificationFunctions(GraphNotificationEndpoint endpoint, GraphNotificationIntake intake, ILogger<GraphNotificationFunctions> logger)
{
    // ASP.NET Core integration writes the returned IResult to the response.
    [Function("GraphNotifications")]
    public Task<IResult> Notifications(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "graph/notifications")] HttpRequest request,
        CancellationToken cancellationToken) =>
        endpoint.HandleAsync(request, cancellationToken);

    [Function("GraphLifecycleNotifications")]
    public Task<IResult> Lifecycle(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "graph/lifecycle")] HttpRequest request,
        CancellationToken cancellationToken) =>
        endpoint.HandleAsync(request, cancellationToken);

    /// <summary>
    /// The same notifications through an Event Grid partner topic. A queue failure throws, so Event Grid retries;
    /// an unreadable event is logged and dropped, since retrying cannot fix it.
    /// </summary>
    [Function("GraphEventGrid")]
    public async Task EventGrid([EventGridTrigger] CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        try
        {
            var graphEvent = new GraphCloudEvent(cloudEvent.Type, cloudEvent.Subject, cloudEvent.Data?.ToMemory() ?? ReadOnlyMemory<byte>.Empty);
            GraphCloudEvents.ToNotification(graphEvent);
            await intake.AcceptCloudEventsAsync([graphEvent], cloudEvent.Id, cancellationToken);
        }
        catch (NotificationFormatException ex)
        {
            logger.LogWarning("Dropped Event Grid event {EventId} of type {EventType}: {Reason}", cloudEvent.Id, cloudEvent.Type, ex.Message);
        }
    }
}
