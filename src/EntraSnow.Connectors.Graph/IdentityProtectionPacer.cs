using Microsoft.Extensions.Options;

namespace EntraSnow.Connectors.Graph;

/// <summary>
/// Keeps this process within Identity Protection's one request per second per tenant: one call at a time, the next
/// starting at least the interval after the previous one <em>finished</em>, so two requests can never reach Graph less
/// than the interval apart however long one spends in transit. Other instances may still collide; their 429s (which
/// carry no Retry-After) are backed off with jitter by the throttling handler.
/// </summary>
internal sealed class IdentityProtectionPacer(IOptions<GraphOptions> options, TimeProvider clock) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DateTimeOffset _nextAllowed = DateTimeOffset.MinValue;

    public void Dispose() => _gate.Dispose();

    public async Task<T> RunAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var wait = _nextAllowed - clock.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, clock, cancellationToken);
            }

            try
            {
                return await call();
            }
            finally
            {
                _nextAllowed = clock.GetUtcNow() + options.Value.IdentityProtectionMinInterval;
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
