using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// The emulator on its own Kestrel listener at http://127.0.0.1:{free port}, for tests and benchmarks:
/// <c>await using var sn = await ServiceNowEmulatorServer.StartAsync();</c> then point the connector at
/// <see cref="BaseUrl"/>, flip <see cref="Faults"/>, read <see cref="Counters"/> and <see cref="Store"/>.
/// </summary>
public sealed class ServiceNowEmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ServiceNowEmulatorServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>The instance URL to configure (ServiceNow:InstanceUrl), prefix included, without a trailing slash.</summary>
    public string BaseUrl { get; }

    public ServiceNowFaults Faults => _app.Services.GetRequiredService<ServiceNowFaults>();

    public ServiceNowEmulatorCounters Counters => _app.Services.GetRequiredService<ServiceNowEmulatorCounters>();

    public ServiceNowEmulatorStore Store => _app.Services.GetRequiredService<ServiceNowEmulatorStore>();

    public ServiceNowTokenIssuer Tokens => _app.Services.GetRequiredService<ServiceNowTokenIssuer>();

    public ServiceNowEmulatorOptions Options => _app.Services.GetRequiredService<IOptions<ServiceNowEmulatorOptions>>().Value;

    /// <summary>The "ServiceNow:*" settings that point the connector at this emulator (OAuth client credentials).</summary>
    public IReadOnlyDictionary<string, string?> ConnectorSettings => new Dictionary<string, string?>
    {
        ["ServiceNow:InstanceUrl"] = BaseUrl,
        ["ServiceNow:AuthMode"] = "OAuth",
        ["ServiceNow:ClientId"] = Options.ClientId,
        ["ServiceNow:ClientSecret"] = Options.ClientSecret,
    };

    /// <param name="configure">Emulator settings (credentials, token lifetime, database).</param>
    /// <param name="prefix">A path prefix such as "/sandbox/servicenow"; "" serves at the root.</param>
    /// <param name="timeProvider">The clock for timestamps and token expiry (a fake one in tests).</param>
    /// <param name="seed">Insert the reference data of <see cref="ServiceNowSeed"/> before serving.</param>
    public static async Task<ServiceNowEmulatorServer> StartAsync(
        Action<ServiceNowEmulatorOptions>? configure = null,
        string prefix = "",
        TimeProvider? timeProvider = null,
        bool seed = false,
        CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (timeProvider is not null)
        {
            builder.Services.AddSingleton(timeProvider);
        }

        builder.Services.AddServiceNowEmulator(configure);
        var app = builder.Build();
        app.MapServiceNowEmulator(prefix);
        if (seed)
        {
            ServiceNowSeed.SeedReferenceData(app.Services.GetRequiredService<ServiceNowEmulatorStore>());
        }

        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var trimmed = "/" + prefix.Trim('/');
        return new ServiceNowEmulatorServer(app, address.TrimEnd('/') + (trimmed == "/" ? string.Empty : trimmed));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
