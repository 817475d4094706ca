using EntraSnow.Flows.Messaging;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>
/// What the serving local host does once <c>deadletters replay</c>, another process, has put messages back in the queue
/// file: the flows forget the failures they remember (a department ServiceNow lacked, which the operator has just
/// created), and the consumers look at once instead of at their next idle poll (30 s). The call carries nothing and
/// changes no data, so it needs no secret; its route is taken from this machine only (<see cref="Hosting.LoopbackCallersOnly"/>).
/// </summary>
public sealed class ReplayedDeadLetters(SqliteQueueStore queues, IEnumerable<IForgetFailuresOnReplay> memories, ILogger<ReplayedDeadLetters> logger)
{
    public const string Route = "/api/local/deadletters-replayed";

    public IResult Accept()
    {
        ForgetFailures();
        queues.WakeAll();
        logger.LogInformation("Dead letters were replayed: remembered failures forgotten, consumers woken");
        return Results.NoContent();
    }

    /// <summary>
    /// The status page's Replay button, in this process: remembered failures are forgotten before the message is back in
    /// its queue, so a consumer that takes it at once already looks the reference up again. Returns false when there is
    /// no such dead letter.
    /// </summary>
    public async Task<bool> ReplayOneAsync(long sequence, CancellationToken cancellationToken)
    {
        ForgetFailures();
        if (await queues.ReplayDeadLettersAsync(queue: null, sequence, cancellationToken) == 0)
        {
            return false;
        }

        queues.WakeAll();
        logger.LogInformation("Dead letter {Sequence} replayed from the status page", sequence);
        return true;
    }

    private void ForgetFailures()
    {
        foreach (var memory in memories)
        {
            memory.ForgetFailures();
        }
    }
}
