using System.Collections.Concurrent;

namespace EntraSnow.Flows.Messaging;

/// <summary>One paused connector, as health shows it.</summary>
public sealed record ConnectorPause(string Connector, string Reason, DateTimeOffset Since);

/// <summary>
/// The connectors whose credentials failed, and the queues whose work waits for them. A message that succeeds on such a
/// queue proves the connector works again and lifts the pause.
/// </summary>
public sealed class ConnectorPauses
{
    private readonly ConcurrentDictionary<string, (ConnectorPause Pause, string Queue)> _paused = new(StringComparer.Ordinal);

    public IReadOnlyList<ConnectorPause> Current => [.. _paused.Values.Select(p => p.Pause).OrderBy(p => p.Connector, StringComparer.Ordinal)];

    /// <summary>True when this call paused the connector (so the caller logs it once).</summary>
    internal bool Pause(string connector, string reason, string queue, DateTimeOffset now) =>
        _paused.TryAdd(connector, (new ConnectorPause(connector, reason, now), queue));

    /// <summary>The connectors paused from <paramref name="queue"/> that are now lifted.</summary>
    internal IReadOnlyList<ConnectorPause> ResumeFrom(string queue)
    {
        var lifted = new List<ConnectorPause>();
        foreach (var (connector, entry) in _paused)
        {
            if (entry.Queue == queue && _paused.TryRemove(connector, out var removed))
            {
                lifted.Add(removed.Pause);
            }
        }

        return lifted;
    }
}
