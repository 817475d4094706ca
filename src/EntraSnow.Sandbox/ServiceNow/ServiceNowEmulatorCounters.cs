using System.Collections.Concurrent;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// What the emulator served, so tests can assert "exactly one write": requests that reached a table (past faults and
/// auth) per method and table, requests turned away by injected faults, and tokens issued.
/// </summary>
public sealed class ServiceNowEmulatorCounters
{
    private readonly ConcurrentDictionary<(string Method, string Table), long> _served = new();
    private long _rateLimited;
    private long _failed;
    private long _dropped;
    private long _tokensIssued;
    private long _unauthorized;
    private int _inFlight;
    private int _peakInFlight;

    /// <summary>Requests served for <paramref name="method"/> (GET, POST, PATCH, PUT, DELETE) on <paramref name="table"/>.</summary>
    public long Served(string method, string table) => _served.GetValueOrDefault((method.ToUpperInvariant(), table));

    /// <summary>POST, PATCH, PUT and DELETE served on <paramref name="table"/>, or on every table when null.</summary>
    public long Writes(string? table = null) => _served.Where(p => p.Key.Method != "GET" && (table is null || p.Key.Table == table)).Sum(p => p.Value);

    /// <summary>GETs served on <paramref name="table"/>, or on every table when null.</summary>
    public long Reads(string? table = null) => _served.Where(p => p.Key.Method == "GET" && (table is null || p.Key.Table == table)).Sum(p => p.Value);

    public long RateLimited => Interlocked.Read(ref _rateLimited);

    public long Failed => Interlocked.Read(ref _failed);

    public long Dropped => Interlocked.Read(ref _dropped);

    public long TokensIssued => Interlocked.Read(ref _tokensIssued);

    public long Unauthorized => Interlocked.Read(ref _unauthorized);

    /// <summary>API requests (under <c>/api/now/</c>) being served right now, injected latency included.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The most API requests served at once since the start or the last <see cref="Reset"/>.</summary>
    public int PeakInFlight => Volatile.Read(ref _peakInFlight);

    public void Reset()
    {
        _served.Clear();
        Interlocked.Exchange(ref _rateLimited, 0);
        Interlocked.Exchange(ref _failed, 0);
        Interlocked.Exchange(ref _dropped, 0);
        Interlocked.Exchange(ref _tokensIssued, 0);
        Interlocked.Exchange(ref _unauthorized, 0);
        Interlocked.Exchange(ref _peakInFlight, Volatile.Read(ref _inFlight));
    }

    /// <summary>A snapshot for the admin route.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var snapshot = _served.ToDictionary(p => $"{p.Key.Method} {p.Key.Table}", p => p.Value, StringComparer.Ordinal);
        snapshot["rateLimited"] = RateLimited;
        snapshot["failed"] = Failed;
        snapshot["dropped"] = Dropped;
        snapshot["tokensIssued"] = TokensIssued;
        snapshot["unauthorized"] = Unauthorized;
        snapshot["inFlight"] = InFlight;
        snapshot["peakInFlight"] = PeakInFlight;
        return snapshot;
    }

    internal void CountServed(string method, string table) => _served.AddOrUpdate((method.ToUpperInvariant(), table), 1, (_, n) => n + 1);

    internal void CountRateLimited() => Interlocked.Increment(ref _rateLimited);

    internal void CountFailed() => Interlocked.Increment(ref _failed);

    internal void CountDropped() => Interlocked.Increment(ref _dropped);

    internal void CountTokenIssued() => Interlocked.Increment(ref _tokensIssued);

    internal void CountUnauthorized() => Interlocked.Increment(ref _unauthorized);

    internal void EnterRequest()
    {
        var now = Interlocked.Increment(ref _inFlight);
        int peak;
        while (now > (peak = Volatile.Read(ref _peakInFlight)) && Interlocked.CompareExchange(ref _peakInFlight, now, peak) != peak)
        {
        }
    }

    internal void LeaveRequest() => Interlocked.Decrement(ref _inFlight);
}
