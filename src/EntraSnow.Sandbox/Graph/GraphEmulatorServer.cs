using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// The Graph emulator on its own Kestrel (http://127.0.0.1, a free port), for tests and benchmarks:
/// <c>await using var graph = await GraphEmulatorServer.StartAsync();</c> then point the connector at <see cref="BaseUrl"/>.
/// </summary>
public sealed class GraphEmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GraphEmulatorServer(WebApplication app, Uri root)
    {
        _app = app;
        Root = root;
        Emulator = app.Services.GetRequiredService<GraphEmulator>();
    }

    /// <summary>e.g. <c>http://127.0.0.1:5123/</c>, or with a prefix <c>http://127.0.0.1:5123/sandbox/graph/</c>; admin routes are under <c>{Root}admin/</c>.</summary>
    public Uri Root { get; }

    /// <summary>The Graph API root to configure as <c>Graph:BaseUrl</c>, e.g. <c>http://127.0.0.1:5123/v1.0</c>.</summary>
    public string BaseUrl => $"{Root}v1.0";

    public string TokenUrl => $"{Root}{Emulator.Options.TenantId}/oauth2/v2.0/token";

    public GraphEmulator Emulator { get; }

    public GraphFaults Faults => Emulator.Faults;

    /// <summary>Settings for <c>AddGraphConnector</c> that point it at this emulator with sandbox credentials.</summary>
    public IReadOnlyDictionary<string, string?> ConnectorSettings => new Dictionary<string, string?>
    {
        ["Graph:BaseUrl"] = BaseUrl,
        ["Graph:Credential"] = "Sandbox",
        ["Graph:TenantId"] = Emulator.Options.TenantId,
        ["Graph:ClientId"] = Emulator.Options.ClientId,
        ["Graph:ClientSecret"] = Emulator.Options.ClientSecret ?? "sandbox",
    };

    public GraphSeedResult Seed(GraphSeedSpec spec) => Emulator.Seed(spec);

    public static async Task<GraphEmulatorServer> StartAsync(
        Action<GraphEmulatorOptions>? configure = null,
        TimeProvider? clock = null,
        string prefix = "",
        CancellationToken cancellationToken = default)
    {
        prefix = prefix.Trim('/');
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (clock is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(clock));
        }

        builder.Services.AddGraphEmulator(configure);
        var app = builder.Build();
        app.MapGraphEmulator(prefix.Length == 0 ? "" : "/" + prefix);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GraphEmulatorServer(app, new Uri(address.TrimEnd('/') + "/" + (prefix.Length == 0 ? "" : prefix + "/")));
    }

    public async ValueTask DisposeAsync()
    {
        await Emulator.WhenNotificationsDeliveredAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
