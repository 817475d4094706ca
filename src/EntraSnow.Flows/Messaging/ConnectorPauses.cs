namespace EntraSnow.Flows.Messaging;

/// <summary>One paused connector, as health and <c>doctor</c> show it: why, since when, whose work waits, and when it is next tried.</summary>
public sealed record ConnectorPause(string Connector, string Reason, DateTimeOffset Since, IReadOnlyList<string> Queues, DateTimeOffset NextProbe);

/// <summary>
/// The connectors whose credentials failed, and the queues whose work waits for them. While a connector is paused, one
/// message of its queues is let through per probe interval as the probe; the others wait for the next probe without
/// calling the connector, so 10,000 waiting users cost one refused call per interval, not 10,000. A message that
/// succeeds on such a queue proves the connector works again and lifts the pause.
/// </summary>
public sealed class ConnectorPauses
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _paused = new(StringComparer.Ordinal);

    public IReadOnlyList<ConnectorPause> Current
    {
        get
        {
            lock (_gate)
            {
                return [.. _paused.Values.Select(e => e.ToPause()).OrderBy(p => p.Connector, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Pauses the connector (or extends its pause to <paramref name="queue"/>); true when this call paused it, so the caller logs it once.</summary>
    internal bool Pause(string connector, string reason, string queue, DateTimeOffset now, DateTimeOffset nextProbe)
    {
        lock (_gate)
        {
            if (_paused.TryGetValue(connector, out var entry))
            {
                entry.Queues.Add(queue);
                entry.Reason = reason;
                entry.NextProbe = entry.NextProbe > nextProbe ? entry.NextProbe : nextProbe;
                return false;
            }

            _paused[connector] = new Entry(connector, reason, now, nextProbe) { Queues = { queue } };
            return true;
        }
    }

    /// <summary>
    /// Whether a message of <paramref name="queue"/> must wait: null when no pause holds that queue, or when this message
    /// is the probe (a paused connector's probe time has come: the next one is set <paramref name="probeInterval"/> on);
    /// otherwise the pause and when its next probe is due.
    /// </summary>
    internal (ConnectorPause Pause, DateTimeOffset Until)? Hold(string queue, DateTimeOffset now, TimeSpan probeInterval)
    {
        lock (_gate)
        {
            var holding = _paused.Values.Where(e => e.Queues.Contains(queue)).ToList();
            if (holding.Count == 0)
            {
                return null;
            }

            var due = holding.Where(e => e.NextProbe <= now).ToList();
            if (due.Count > 0)
            {
                foreach (var entry in due)
                {
                    entry.NextProbe = now + probeInterval;
                }

                return null;
            }

            var first = holding.MinBy(e => e.NextProbe)!;
            return (first.ToPause(), first.NextProbe);
        }
    }

    /// <summary>The connectors paused from <paramref name="queue"/> that are now lifted.</summary>
    internal IReadOnlyList<ConnectorPause> ResumeFrom(string queue)
    {
        lock (_gate)
        {
            if (_paused.Count == 0)
            {
                return [];
            }

            var lifted = _paused.Values.Where(e => e.Queues.Contains(queue)).ToList();
            foreach (var entry in lifted)
            {
                _paused.Remove(entry.Connector);
            }

            return [.. lifted.Select(e => e.ToPause())];
        }
    }

    private sealed class Entry(string connector, string reason, DateTimeOffset since, DateTimeOffset nextProbe)
    {
        public string Connector { get; } = connector;

        public string Reason { get; set; } = reason;

        public DateTimeOffset Since { get; } = since;

        public HashSet<string> Queues { get; } = new(StringComparer.Ordinal);

        public DateTimeOffset NextProbe { get; set; } = nextProbe;

        public ConnectorPause ToPause() => new(Connector, Reason, Since, [.. Queues.Order(StringComparer.Ordinal)], NextProbe);
    }
}
