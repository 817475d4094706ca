using Microsoft.Extensions.Options;

namespace EntraSnow.Connectors.Graph;

/// <summary>
/// Keeps this process within Identity Protection's one request per second per tenant. Other instances may still
/// collide; their 429s (which carry no Retry-After) are backed off by the throttling handler.
/// </summary>
internal sealed class IdentityProtectionPacer(IOptions<GraphOptions> options, TimeProvider clock) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DateTimeOffset _nextAllowed = DateTimeOffset.MinValue;

    public void Dispose() => _gate.Dispose();

    public async Task WaitTurnAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var wait = _nextAllowed - clock.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, clock, cancellationToken);
            }

            _nextAllowed = clock.GetUtcNow() + options.Value.IdentityProtectionMinInterval;
        }
        finally
        {
            _gate.Release();
        }
    }
}
