namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// Counts the HTTP requests the connector put on the wire (retries included), so benchmarks and tests can report
/// "ServiceNow calls per user". One per registered connector; thread-safe.
/// </summary>
public sealed class ServiceNowCallCounter
{
    private long _reads;
    private long _writes;
    private long _tokenRequests;

    /// <summary>Table API GETs.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>Table API POST, PATCH, PUT and DELETE.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Requests to /oauth_token.do.</summary>
    public long TokenRequests => Interlocked.Read(ref _tokenRequests);

    /// <summary>Table API calls (reads and writes; token requests not included).</summary>
    public long Total => Reads + Writes;

    public void Reset()
    {
        Interlocked.Exchange(ref _reads, 0);
        Interlocked.Exchange(ref _writes, 0);
        Interlocked.Exchange(ref _tokenRequests, 0);
    }

    internal void CountTableCall(HttpMethod method)
    {
        if (method == HttpMethod.Get || method == HttpMethod.Head)
        {
            Interlocked.Increment(ref _reads);
        }
        else
        {
            Interlocked.Increment(ref _writes);
        }
    }

    internal void CountTokenRequest() => Interlocked.Increment(ref _tokenRequests);
}

/// <summary>The innermost handler: every attempt that reaches the wire is counted once.</summary>
internal sealed class CallCountingHandler(ServiceNowCallCounter counter) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri?.AbsolutePath.EndsWith("/oauth_token.do", StringComparison.Ordinal) == true)
        {
            counter.CountTokenRequest();
        }
        else
        {
            counter.CountTableCall(request.Method);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
