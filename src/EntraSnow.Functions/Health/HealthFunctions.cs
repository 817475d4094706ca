using EntraSnow.Flows.Messaging;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace EntraSnow.Functions.Health;

/// <summary>
/// <c>GET /api/health</c> in Azure (a function key): <c>degraded</c> while a connector is paused for a refused credential,
/// naming it, its reason, since when, the queues whose work waits and the next probe, as every instance shares them.
/// </summary>
internal sealed class HealthFunctions(ISharedConnectorPauses pauses)
{
    [Function("Health")]
    public async Task<IResult> Health(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "health")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var paused = await pauses.ListAsync(cancellationToken);
        // 200 either way, as the local host answers: an operator reads the status; the app itself is up.
        return Results.Ok(new
        {
            status = paused.Count == 0 ? "healthy" : "degraded",
            paused = paused.Select(p => new { connector = p.Connector, reason = p.Reason, since = p.Since, queues = p.Queues, nextProbe = p.NextProbe }),
        });
    }
}
