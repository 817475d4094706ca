using EntraSnow.LocalHost.Cli;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.LocalHost.Tests.Support;

/// <summary>
/// The local host's command line against a Graph emulator and a ServiceNow emulator (seeded with its reference data)
/// that the test owns, so it can seed them and read the ServiceNow emulator's counters; a fresh data folder. Optionally
/// a local host serving the same settings and folder (<see cref="ServeAsync"/>), whose consumers then do a sync's work.
/// </summary>
public sealed class CommandLineOverEmulators : IAsyncDisposable
{
    private readonly string _dataPath = LocalHostHarness.NewDataPath();

    private CommandLineOverEmulators(GraphEmulatorServer graph, ServiceNowEmulatorServer serviceNow)
    {
        Graph = graph;
        ServiceNow = serviceNow;
    }

    public GraphEmulatorServer Graph { get; }

    public ServiceNowEmulatorServer ServiceNow { get; }

    /// <summary>The local host serving these settings, once <see cref="ServeAsync"/> started it.</summary>
    public LocalHostHarness? Host { get; private set; }

    public static async Task<CommandLineOverEmulators> StartAsync() =>
        new(await GraphEmulatorServer.StartAsync(), await ServiceNowEmulatorServer.StartAsync(seed: true));

    private Dictionary<string, string?> Settings() => new(Graph.ConnectorSettings.Concat(ServiceNow.ConnectorSettings))
    {
        ["Graph:ClientState"] = "a-client-state-of-enough-length",
        ["Logging:LogLevel:Default"] = "Warning",
        // A report written while its manager is still being adopted gets the manager in a follow-up: at once here.
        ["Provisioning:FollowUpDelay"] = "00:00:00",
    };

    /// <summary>Starts a local host on these settings and data folder (no timers); commands then find it serving.</summary>
    public async Task ServeAsync()
    {
        var settings = Settings();
        settings["LocalHost:RunTimers"] = "false";
        // A serving host outside sandbox mode needs somewhere for Graph to notify; no timer subscribes it here.
        settings["Subscriptions:NotificationUrl"] = "http://127.0.0.1:9/api/graph/notifications";
        Host = await LocalHostHarness.StartAsync(settings, _dataPath);
    }

    /// <summary>Runs one command; returns its exit code and what it printed.</summary>
    public async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var settings = Settings();
        settings["LocalHost:DataPath"] = _dataPath;
        settings["LocalHost:Url"] = Host?.BaseUrl ?? $"http://127.0.0.1:{LocalHostHarness.FreePort()}";
        using var output = new StringWriter();
        var exit = await LocalHostCommandLine.RunAsync([.. args, .. settings.Select(s => $"--{s.Key}={s.Value}")], output);
        return (exit, output.ToString());
    }

    /// <summary>Waits until the serving host's queues hold nothing: queued, in flight or scheduled.</summary>
    public Task DrainedAsync() => Host!.DrainedAsync("the serving host's queues drained", TimeSpan.FromSeconds(120));

    /// <summary>A Graph user's UPN and mail, as the seed made them.</summary>
    public (string UserPrincipalName, string? Mail) NamesOf(string userId)
    {
        var user = Graph.Emulator.GetUser(userId)!;
        return (user["userPrincipalName"]!.GetValue<string>(), user["mail"]?.GetValue<string>());
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        await Graph.DisposeAsync();
        await ServiceNow.DisposeAsync();
        LocalHostHarness.TryDelete(_dataPath);
    }
}
