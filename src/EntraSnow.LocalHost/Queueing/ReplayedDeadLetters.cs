using System.Net;
using EntraSnow.Flows.Messaging;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>
/// What the serving local host does once <c>deadletters replay</c>, another process, has put messages back in the queue
/// file: the flows forget the failures they remember (a department ServiceNow lacked, which the operator has just
/// created), and the consumers look at once instead of at their next idle poll (30 s). The call carries nothing and
/// changes no data, so it needs no secret; it is still taken from this machine only.
/// </summary>
public sealed class ReplayedDeadLetters(SqliteQueueStore queues, IEnumerable<IForgetFailuresOnReplay> memories, ILogger<ReplayedDeadLetters> logger)
{
    public const string Route = "/api/local/deadletters-replayed";

    public IResult Accept(IPAddress? caller)
    {
        if (caller is null || !IPAddress.IsLoopback(caller))
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        AfterReplay();
        return Results.NoContent();
    }

    /// <summary>Once messages are back in the queue (by the CLI, or the status page's replay button in this process).</summary>
    public void AfterReplay()
    {
        foreach (var memory in memories)
        {
            memory.ForgetFailures();
        }

        foreach (var queue in QueueNames.All)
        {
            queues.Wake(queue);
        }

        logger.LogInformation("Dead letters were replayed: remembered failures forgotten, consumers woken");
    }
}
