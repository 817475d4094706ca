namespace EntraSnow.LocalHost.Queueing;

/// <summary>
/// What the serving local host does when a command in another process (a <c>sync</c> in another terminal) has queued
/// work in its queue file: its consumers look at once instead of at their next idle poll (30 s). Like the replay route
/// it carries nothing and changes no data, so it needs no secret; its route is taken from this machine only
/// (<see cref="Hosting.LoopbackCallersOnly"/>).
/// </summary>
public static class WorkQueuedElsewhere
{
    public const string Route = "/api/local/work-queued";

    public static IResult Accept(SqliteQueueStore queues)
    {
        queues.WakeAll();
        return Results.NoContent();
    }
}
