namespace EntraSnow.Flows.Messaging;

/// <summary>One paused connector, as health and <c>doctor</c> show it: why, since when, whose work waits, and when it is next tried.</summary>
public sealed record ConnectorPause(string Connector, string Reason, DateTimeOffset Since, IReadOnlyList<string> Queues, DateTimeOffset NextProbe);

/// <summary>
/// The connectors whose credentials failed, and the queues whose work waits for them. While a connector is paused, one
/// message of its queues is let through per probe interval as the probe; the others wait for the next probe without
/// calling the connector, so 10,000 waiting users cost one refused call per interval, not 10,000. A message that
/// succeeds on such a queue proves the connector works again and lifts the pause. A host of several instances keeps
/// them in step through <see cref="ISharedConnectorPauses"/> (<see cref="SharedPauseSync"/>).
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
                if (entry.Queues.Add(queue))
                {
                    entry.Recorded = false;
                }

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

    /// <summary>The connectors whose pause holds <paramref name="queue"/>.</summary>
    internal IReadOnlyList<string> Holding(string queue)
    {
        lock (_gate)
        {
            return [.. _paused.Values.Where(e => e.Queues.Contains(queue)).Select(e => e.Connector)];
        }
    }

    /// <summary>The connector's pause as it stands, when this pause is not yet in the shared record (new, or held more queues since).</summary>
    internal ConnectorPause? Unrecorded(string connector)
    {
        lock (_gate)
        {
            return _paused.TryGetValue(connector, out var entry) && !entry.Recorded ? entry.ToPause() : null;
        }
    }

    /// <summary>Notes that the shared record holds the connector's pause as it stands.</summary>
    internal void Recorded(string connector)
    {
        lock (_gate)
        {
            if (_paused.TryGetValue(connector, out var entry))
            {
                entry.Recorded = true;
            }
        }
    }

    /// <summary>Another instance took the connector's probe: this one's waits for the next.</summary>
    internal void Defer(string connector, DateTimeOffset nextProbe)
    {
        lock (_gate)
        {
            if (_paused.TryGetValue(connector, out var entry) && entry.NextProbe < nextProbe)
            {
                entry.NextProbe = nextProbe;
            }
        }
    }

    /// <summary>
    /// Takes in the shared record: pauses other instances met are adopted (returned as <c>Adopted</c>), and pauses this
    /// one had recorded that the record no longer holds were lifted by another instance's probe (returned as <c>Lifted</c>).
    /// </summary>
    internal (IReadOnlyList<ConnectorPause> Adopted, IReadOnlyList<ConnectorPause> Lifted) Synchronise(IReadOnlyList<ConnectorPause> recorded)
    {
        lock (_gate)
        {
            var adopted = new List<ConnectorPause>();
            foreach (var pause in recorded)
            {
                if (!_paused.TryGetValue(pause.Connector, out var entry))
                {
                    entry = _paused[pause.Connector] = new Entry(pause.Connector, pause.Reason, pause.Since, pause.NextProbe);
                    adopted.Add(pause);
                }

                entry.Queues.UnionWith(pause.Queues);
                entry.NextProbe = entry.NextProbe > pause.NextProbe ? entry.NextProbe : pause.NextProbe;
                entry.Recorded = entry.Queues.IsSubsetOf(pause.Queues);
            }

            var lifted = _paused.Values.Where(e => e.Recorded && !recorded.Any(p => p.Connector == e.Connector)).ToList();
            foreach (var entry in lifted)
            {
                _paused.Remove(entry.Connector);
            }

            return (adopted, [.. lifted.Select(e => e.ToPause())]);
        }
    }

    private sealed class Entry(string connector, string reason, DateTimeOffset since, DateTimeOffset nextProbe)
    {
        public string Connector { get; } = connector;

        public string Reason { get; set; } = reason;

        public DateTimeOffset Since { get; } = since;

        public HashSet<string> Queues { get; } = new(StringComparer.Ordinal);

        public DateTimeOffset NextProbe { get; set; } = nextProbe;

        /// <summary>Whether the shared record holds this pause with every queue it holds (always false without one).</summary>
        public bool Recorded { get; set; }

        public ConnectorPause ToPause() => new(Connector, Reason, Since, [.. Queues.Order(StringComparer.Ordinal)], NextProbe);
    }
}
