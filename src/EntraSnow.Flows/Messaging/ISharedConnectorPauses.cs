namespace EntraSnow.Flows.Messaging;

/// <summary>
/// Where paused connectors are kept for a host that runs as several processes (the Functions app's instances): a
/// refused credential met by one instance pauses that connector's work on all of them, one probe per interval is
/// tried among them all, and the probe that succeeds on any instance lifts the pause for every one. The local host is
/// one process and registers none: its pauses live in <see cref="ConnectorPauses"/> alone.
/// </summary>
public interface ISharedConnectorPauses
{
    Task<IReadOnlyList<ConnectorPause>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Records the pause, or adds to the one recorded: queues joined, the latest reason and next probe kept, the first
    /// since kept.
    /// </summary>
    Task SaveAsync(ConnectorPause pause, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the connector's probe for the caller when it is due at <paramref name="now"/>, moving the next one to
    /// <paramref name="nextProbe"/>: null when the caller is the probe (or no pause is recorded), otherwise when the
    /// probe another instance took is next due.
    /// </summary>
    Task<DateTimeOffset?> TakeProbeAsync(string connector, DateTimeOffset now, DateTimeOffset nextProbe, CancellationToken cancellationToken = default);

    /// <summary>Removes the connector's pause (nothing when none is recorded).</summary>
    Task LiftAsync(string connector, CancellationToken cancellationToken = default);
}
