using System.Collections.Concurrent;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// Identity Protection's limit: one request per second per tenant, shared by every app, answered with 429 and no
/// Retry-After. Every riskDetections request counts, refused ones too, so a client that hammers stays refused.
/// Records when each request arrived so tests and benchmarks can measure the rate a client kept.
/// </summary>
public sealed class IdentityProtectionLimit(GraphEmulatorOptions options, TimeProvider clock)
{
    private readonly Lock _gate = new();
    private readonly ConcurrentQueue<(DateTimeOffset At, bool Served)> _requests = new();
    private DateTimeOffset? _last;

    /// <summary>Arrival time of every riskDetections request, oldest first, with whether it was served or refused.</summary>
    public IReadOnlyList<(DateTimeOffset At, bool Served)> Requests => [.. _requests];

    public int Served => _requests.Count(r => r.Served);

    public int Refused => _requests.Count(r => !r.Served);

    /// <summary>The shortest gap between two consecutive requests (null with fewer than two).</summary>
    public TimeSpan? ShortestGap
    {
        get
        {
            var times = _requests.Select(r => r.At).ToList();
            return times.Count < 2 ? null : times.Zip(times.Skip(1), (a, b) => b - a).Min();
        }
    }

    /// <summary>True when the request may be served; false when it comes sooner than the limit allows after the previous one.</summary>
    internal bool TryEnter()
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            var served = _last is not { } last || now - last >= options.IdentityProtectionMinInterval;
            _last = now;
            _requests.Enqueue((now, served));
            return served;
        }
    }

    internal static GraphResponse TooManyRequests() =>
        GraphResponse.Error(429, "TooManyRequests", "Too many requests. Identity Protection allows 1 request per second per tenant.");
}
