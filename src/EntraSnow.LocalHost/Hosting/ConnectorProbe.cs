using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>One connector's answer to a light live call.</summary>
public sealed record ConnectorStatus(string Name, bool Emulated, bool Ok, string Detail);

/// <summary>
/// Light live calls to Graph and ServiceNow with the configured credentials, shared by <c>doctor</c> and
/// <c>/api/health</c>. The health endpoint's answers are remembered for a short while so a monitor polling it does
/// not become load on either service.
/// </summary>
public sealed class ConnectorProbe(IServiceProvider services, SandboxMode sandbox, TimeProvider clock)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTimeOffset At, IReadOnlyList<ConnectorStatus> Statuses)? _last;

    public async Task<IReadOnlyList<ConnectorStatus>> CachedAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_last is { } last && clock.GetUtcNow() - last.At < CacheFor)
            {
                return last.Statuses;
            }

            var statuses = await ProbeAsync(cancellationToken);
            _last = (clock.GetUtcNow(), statuses);
            return statuses;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<ConnectorStatus>> ProbeAsync(CancellationToken cancellationToken) =>
    [
        await ProbeOneAsync("graph", sandbox.Graph, async ct =>
            $"{(await services.GetRequiredService<IGraphSubscriptions>().ListAsync(ct)).Count} subscription(s)", cancellationToken),
        await ProbeOneAsync("serviceNow", sandbox.ServiceNow, async ct =>
            await services.GetRequiredService<IServiceNowTable>().FindAsync("sys_user", EncodedQuery.All, ["sys_id"], ct) is null
                ? "reachable, no users yet"
                : "reachable", cancellationToken),
    ];

    private static async Task<ConnectorStatus> ProbeOneAsync(string name, bool emulated, Func<CancellationToken, Task<string>> call, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            return new ConnectorStatus(name, emulated, true, await call(timeout.Token));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ConnectorStatus(name, emulated, false, $"no answer within {ProbeTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Connector exceptions carry the service's message, never credentials.
            return new ConnectorStatus(name, emulated, false, ex.Message);
        }
    }
}
