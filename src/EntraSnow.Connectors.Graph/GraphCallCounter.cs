namespace EntraSnow.Connectors.Graph;

/// <summary>
/// Counts the HTTP requests the connector sends to Graph (retries and batch calls included, each batch once),
/// so benchmarks and health checks can report Graph calls per object.
/// </summary>
public sealed class GraphCallCounter
{
    private long _requests;
    private long _throttled;

    /// <summary>Requests put on the wire.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Answers that were 429 or 503.</summary>
    public long Throttled => Interlocked.Read(ref _throttled);

    internal void CountRequest() => Interlocked.Increment(ref _requests);

    internal void CountThrottled() => Interlocked.Increment(ref _throttled);

    public void Reset()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _throttled, 0);
    }
}
