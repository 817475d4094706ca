namespace EntraSnow.Sandbox.Graph;

public enum GraphFaultKind
{
    /// <summary>429 Too Many Requests, with a Retry-After header when <see cref="GraphFault.RetryAfter"/> is set.</summary>
    Throttle,

    /// <summary>503 Service Unavailable, with a Retry-After header when <see cref="GraphFault.RetryAfter"/> is set.</summary>
    Unavailable,

    /// <summary>The request is answered normally, but only after <see cref="GraphFault.Latency"/>.</summary>
    Latency,
}

/// <summary>One injected fault: it hits the next <see cref="Count"/> matching requests, then is used up.</summary>
public sealed record GraphFault
{
    public required GraphFaultKind Kind { get; init; }

    public int Count { get; init; } = 1;

    public TimeSpan? RetryAfter { get; init; }

    public TimeSpan Latency { get; init; }

    /// <summary>Only requests whose path contains this (case-insensitive), e.g. <c>riskDetections</c>; null matches all.</summary>
    public string? PathContains { get; init; }

    /// <summary>Hit the requests inside a <c>$batch</c> (per-item answers) instead of top-level requests.</summary>
    public bool InsideBatch { get; init; }
}

/// <summary>Fault injection for the Graph emulator: tests and the admin route add faults; requests use them up.</summary>
public sealed class GraphFaults
{
    private readonly Lock _gate = new();
    private readonly List<Remaining> _faults = [];

    public void Add(GraphFault fault)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fault.Count, 1);
        lock (_gate)
        {
            _faults.Add(new Remaining(fault, fault.Count));
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _faults.Clear();
        }
    }

    /// <summary>Faults not yet used up.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _faults.Sum(f => f.Left);
            }
        }
    }

    internal GraphFault? Take(string path, bool insideBatch)
    {
        lock (_gate)
        {
            var match = _faults.FirstOrDefault(f => f.Fault.InsideBatch == insideBatch
                && (f.Fault.PathContains is null || path.Contains(f.Fault.PathContains, StringComparison.OrdinalIgnoreCase)));
            if (match is null)
            {
                return null;
            }

            match.Left--;
            if (match.Left == 0)
            {
                _faults.Remove(match);
            }

            return match.Fault;
        }
    }

    private sealed class Remaining(GraphFault fault, int left)
    {
        public GraphFault Fault { get; } = fault;

        public int Left { get; set; } = left;
    }
}
