using System.Net;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>
/// What the serving local host does when a command in another process (a <c>sync</c> in another terminal) has queued
/// work in its queue file: its consumers look at once instead of at their next idle poll (30 s). Like the replay route
/// it carries nothing and changes no data, so it needs no secret; it is still taken from this machine only.
/// </summary>
public static class WorkQueuedElsewhere
{
    public const string Route = "/api/local/work-queued";

    public static IResult Accept(IPAddress? caller, SqliteQueueStore queues)
    {
        if (caller is null || !IPAddress.IsLoopback(caller))
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        queues.WakeAll();
        return Results.NoContent();
    }
}
