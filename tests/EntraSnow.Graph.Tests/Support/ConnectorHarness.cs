using EntraSnow.Connectors.Graph;
using EntraSnow.Sandbox.Graph;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Graph.Tests.Support;

/// <summary>The Graph emulator on loopback and the real connector pointed at it over HTTP, with waits recorded instead of spent.</summary>
internal sealed class ConnectorHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ConnectorHarness(GraphEmulatorServer server, ServiceProvider services, InstantDelays delays)
    {
        Server = server;
        _services = services;
        Delays = delays;
    }

    public GraphEmulatorServer Server { get; }

    public GraphEmulator Emulator => Server.Emulator;

    public InstantDelays Delays { get; }

    public IDirectory Directory => _services.GetRequiredService<IDirectory>();

    public IGraphSubscriptions Subscriptions => _services.GetRequiredService<IGraphSubscriptions>();

    public GraphCallCounter Calls => _services.GetRequiredService<GraphCallCounter>();

    /// <param name="sharedClock">The emulator runs on the same virtual clock, so its rate limits see the waits the connector chose.</param>
    public static async Task<ConnectorHarness> StartAsync(
        Action<GraphEmulatorOptions>? emulator = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        string prefix = "",
        bool sharedClock = false)
    {
        var delays = new InstantDelays();
        var server = await GraphEmulatorServer.StartAsync(emulator, sharedClock ? delays : null, prefix: prefix);
        return Connect(server, settings, delays);
    }

    /// <summary>The connector against an emulator the test started itself (e.g. with its own clock); disposing the harness stops it.</summary>
    public static Task<ConnectorHarness> ForServerAsync(GraphEmulatorServer server) => Task.FromResult(Connect(server, null, new InstantDelays()));

    private static ConnectorHarness Connect(GraphEmulatorServer server, IReadOnlyDictionary<string, string?>? settings, InstantDelays delays)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(server.ConnectorSettings)
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Graph:BackoffBase"] = "00:00:02",
                ["Graph:BackoffJitter"] = "0",
                ["Graph:IdentityProtectionMinInterval"] = "00:00:01",
            })
            .AddInMemoryCollection(settings ?? new Dictionary<string, string?>())
            .Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(delays)
            .AddGraphConnector(configuration)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new ConnectorHarness(server, services, delays);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Server.DisposeAsync();
    }
}
