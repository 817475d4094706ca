namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// Faults the emulator injects, switchable at run time from code (tests) or through
/// <c>POST {prefix}/sandbox-admin/faults</c>. Thread-safe.
/// </summary>
public sealed class ServiceNowFaults(TimeSpan configuredLatency)
{
    private readonly Lock _gate = new();
    private readonly TimeSpan _configuredLatency = configuredLatency;
    private readonly HashSet<string> _deniedTables = new(StringComparer.Ordinal);
    private int _rateLimitedRemaining;
    private TimeSpan _retryAfter = TimeSpan.FromSeconds(1);
    private int _failuresRemaining;
    private int _failureStatus = 503;

    public ServiceNowFaults()
        : this(TimeSpan.Zero)
    {
    }

    /// <summary>Added to every answer before it is produced; starts at <c>Sandbox:ServiceNow:LatencyMs</c>.</summary>
    public TimeSpan Latency { get; set; } = configuredLatency;

    /// <summary>Full outage: every connection is dropped without an answer.</summary>
    public bool Outage { get; set; }

    /// <summary>The next <paramref name="requests"/> Table API requests answer 429 with Retry-After and X-RateLimit-* headers.</summary>
    public void RateLimitNext(int requests, TimeSpan retryAfter)
    {
        lock (_gate)
        {
            _rateLimitedRemaining = Math.Max(0, requests);
            _retryAfter = retryAfter;
        }
    }

    /// <summary>The next <paramref name="requests"/> requests answer <paramref name="statusCode"/> (a 5xx burst).</summary>
    public void FailNext(int requests, int statusCode = 503)
    {
        lock (_gate)
        {
            _failuresRemaining = Math.Max(0, requests);
            _failureStatus = statusCode;
        }
    }

    /// <summary>An ACL forbids every Table API call on <paramref name="table"/> (403).</summary>
    public void DenyTable(string table)
    {
        lock (_gate)
        {
            _deniedTables.Add(table);
        }
    }

    public void AllowTable(string table)
    {
        lock (_gate)
        {
            _deniedTables.Remove(table);
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _rateLimitedRemaining = 0;
            _failuresRemaining = 0;
            _deniedTables.Clear();
            Latency = _configuredLatency;
            Outage = false;
        }
    }

    /// <summary>The current settings, as the admin route shows them.</summary>
    public ServiceNowFaultSettings Snapshot()
    {
        lock (_gate)
        {
            return new ServiceNowFaultSettings
            {
                RateLimitNext = _rateLimitedRemaining,
                RetryAfterSeconds = (int)Math.Ceiling(_retryAfter.TotalSeconds),
                FailNext = _failuresRemaining,
                FailStatus = _failureStatus,
                LatencyMs = (int)Latency.TotalMilliseconds,
                Outage = Outage,
                DeniedTables = [.. _deniedTables.Order(StringComparer.Ordinal)],
            };
        }
    }

    /// <summary>Applies settings posted to the admin route; absent members leave the current setting alone.</summary>
    public void Apply(ServiceNowFaultSettings settings)
    {
        if (settings.RateLimitNext is { } limited)
        {
            RateLimitNext(limited, TimeSpan.FromSeconds(settings.RetryAfterSeconds ?? 1));
        }

        if (settings.FailNext is { } failures)
        {
            FailNext(failures, settings.FailStatus ?? 503);
        }

        if (settings.LatencyMs is { } latency)
        {
            Latency = TimeSpan.FromMilliseconds(Math.Max(0, latency));
        }

        if (settings.Outage is { } outage)
        {
            Outage = outage;
        }

        if (settings.DeniedTables is { } denied)
        {
            lock (_gate)
            {
                _deniedTables.Clear();
                _deniedTables.UnionWith(denied);
            }
        }
    }

    internal bool TryTakeRateLimit(out TimeSpan retryAfter)
    {
        lock (_gate)
        {
            retryAfter = _retryAfter;
            if (_rateLimitedRemaining <= 0)
            {
                return false;
            }

            _rateLimitedRemaining--;
            return true;
        }
    }

    internal bool TryTakeFailure(out int statusCode)
    {
        lock (_gate)
        {
            statusCode = _failureStatus;
            if (_failuresRemaining <= 0)
            {
                return false;
            }

            _failuresRemaining--;
            return true;
        }
    }

    internal bool IsDenied(string table)
    {
        lock (_gate)
        {
            return _deniedTables.Contains(table);
        }
    }
}

/// <summary>The JSON body of <c>{prefix}/sandbox-admin/faults</c>.</summary>
public sealed class ServiceNowFaultSettings
{
    public int? RateLimitNext { get; set; }

    public int? RetryAfterSeconds { get; set; }

    public int? FailNext { get; set; }

    public int? FailStatus { get; set; }

    public int? LatencyMs { get; set; }

    public bool? Outage { get; set; }

    public IReadOnlyList<string>? DeniedTables { get; set; }
}
