using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EntraSnow.ServiceNow.Tests;

/// <summary>The emulator on loopback plus a connector wired the way the hosts wire it (AddServiceNowConnector).</summary>
internal sealed class ConnectorHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ConnectorHarness(ServiceNowEmulatorServer emulator, ServiceProvider services, SkippingTimeProvider clock)
    {
        Emulator = emulator;
        _services = services;
        Clock = clock;
    }

    public ServiceNowEmulatorServer Emulator { get; }

    public SkippingTimeProvider Clock { get; }

    public IServiceNowTable Table => _services.GetRequiredService<IServiceNowTable>();

    public IServiceNowReferences References => _services.GetRequiredService<IServiceNowReferences>();

    public ServiceNowCallCounter Calls => _services.GetRequiredService<ServiceNowCallCounter>();

    public ServiceNowOptions Options => _services.GetRequiredService<IOptions<ServiceNowOptions>>().Value;

    /// <summary>Short, virtual-time resilience settings; <paramref name="settings"/> overrides any "ServiceNow:*" key.</summary>
    public static async Task<ConnectorHarness> StartAsync(
        Dictionary<string, string?>? settings = null,
        string prefix = "",
        Action<ServiceNowEmulatorOptions>? emulator = null,
        bool seed = true)
    {
        var server = await ServiceNowEmulatorServer.StartAsync(emulator, prefix, seed: seed);
        var clock = new SkippingTimeProvider();
        var values = new Dictionary<string, string?>(server.ConnectorSettings)
        {
            ["ServiceNow:Username"] = server.Options.Username,
            ["ServiceNow:Password"] = server.Options.Password,
            ["ServiceNow:RetryBaseDelay"] = "00:00:01",
            ["ServiceNow:MaxRetryAttempts"] = "3",
            // Waits are skipped on the virtual clock, so a per-attempt timeout would fire at once: off here, tested on real time.
            ["ServiceNow:AttemptTimeout"] = "00:00:00",
            ["ServiceNow:CircuitBreakerMinimumThroughput"] = "4",
            ["ServiceNow:CircuitBreakerSamplingDuration"] = "00:05:00",
            ["ServiceNow:CircuitBreakerBreakDuration"] = "00:00:30",
            ["ServiceNow:RetryAfterPatience"] = "00:02:00",
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(values.ContainsKey("UseSystemClock") ? TimeProvider.System : clock);
        services.AddServiceNowConnector(configuration);
        return new ConnectorHarness(server, services.BuildServiceProvider(validateScopes: true), clock);
    }

    public static Dictionary<string, string> User(string userName, string title = "Engineer") => new()
    {
        ["user_name"] = userName,
        ["first_name"] = "Test",
        ["last_name"] = userName,
        ["email"] = userName,
        ["title"] = title,
    };

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Emulator.DisposeAsync();
    }
}
