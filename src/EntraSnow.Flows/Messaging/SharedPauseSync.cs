using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.Messaging;

/// <summary>
/// Keeps this instance's <see cref="ConnectorPauses"/> and the shared record (<see cref="ISharedConnectorPauses"/>) in
/// step: a pause met here is recorded for the other instances; the record is read at most every
/// <see cref="ReadInterval"/> before a message is held or let through, so a pause met elsewhere holds this instance's
/// work too and a pause lifted elsewhere lets it go; and a probe due here is taken in the record, so the instances
/// together try a paused connector once per interval. When the record cannot be reached, the pauses go on in this
/// instance alone (logged), and a probe the record could not decide is tried.
/// </summary>
internal sealed class SharedPauseSync(ISharedConnectorPauses shared, TimeProvider clock, ILogger logger)
{
    /// <summary>A pause met by another instance holds this one's work at most this long after it was recorded.</summary>
    internal static readonly TimeSpan ReadInterval = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _reading = new(1, 1);
    private DateTimeOffset _nextRead = DateTimeOffset.MinValue;

    /// <summary>Reads the shared record when the last read is older than <see cref="ReadInterval"/> (one read at a time: the others go on with what is known).</summary>
    public async Task ReadIfDueAsync(ConnectorPauses local, CancellationToken cancellationToken)
    {
        if (clock.GetUtcNow() < _nextRead || !await _reading.WaitAsync(0, cancellationToken))
        {
            return;
        }

        try
        {
            if (clock.GetUtcNow() < _nextRead)
            {
                return;
            }

            _nextRead = clock.GetUtcNow() + ReadInterval;
            var (adopted, lifted) = local.Synchronise(await shared.ListAsync(cancellationToken));
            foreach (var pause in adopted)
            {
                logger.LogWarning("{Connector} was paused by another instance: {Reason}. Its work on {Queues} waits here too", pause.Connector, pause.Reason, string.Join(", ", pause.Queues));
            }

            foreach (var pause in lifted)
            {
                logger.LogWarning("{Connector} works again (another instance's probe succeeded): resuming its work (paused since {Since}: {Reason})", pause.Connector, pause.Since, pause.Reason);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Could not read the paused connectors other instances recorded; going on with this instance's");
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>
    /// This message is this instance's probe of the queue's paused connectors: true when another instance's probe came
    /// first (this instance's is moved to that one's next, and the message waits), false when it is the probe.
    /// </summary>
    public async Task<bool> ProbeTakenElsewhereAsync(ConnectorPauses local, string queue, DateTimeOffset now, TimeSpan probeInterval, CancellationToken cancellationToken)
    {
        var deferred = false;
        foreach (var connector in local.Holding(queue))
        {
            try
            {
                if (await shared.TakeProbeAsync(connector, now, now + probeInterval, cancellationToken) is { } next)
                {
                    local.Defer(connector, next);
                    deferred = true;
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Could not take {Connector}'s probe in the shared record; this instance tries it", connector);
            }
        }

        return deferred;
    }

    /// <summary>Records the connector's pause for the other instances, when the record does not hold it as it stands.</summary>
    public async Task RecordAsync(ConnectorPauses local, string connector, CancellationToken cancellationToken)
    {
        if (local.Unrecorded(connector) is not { } pause)
        {
            return;
        }

        try
        {
            await shared.SaveAsync(pause, cancellationToken);
            local.Recorded(connector);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Could not record {Connector}'s pause for the other instances; it holds this instance's work", connector);
        }
    }

    /// <summary>Lifts the pauses this instance's probe lifted for every instance.</summary>
    public async Task LiftAsync(IReadOnlyList<ConnectorPause> lifted, CancellationToken cancellationToken)
    {
        foreach (var pause in lifted)
        {
            try
            {
                await shared.LiftAsync(pause.Connector, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Could not lift {Connector}'s pause for the other instances; their own probes will", pause.Connector);
            }
        }
    }
}
