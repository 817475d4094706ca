using EntraSnow.LocalHost.Cli;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.LocalHost.Tests.Support;

/// <summary>
/// The local host's command line against a Graph emulator and a ServiceNow emulator (seeded with its reference data)
/// that the test owns, so it can seed them and read the ServiceNow emulator's counters; a fresh data folder.
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

    public static async Task<CommandLineOverEmulators> StartAsync() =>
        new(await GraphEmulatorServer.StartAsync(), await ServiceNowEmulatorServer.StartAsync(seed: true));

    /// <summary>Runs one command; returns its exit code and what it printed.</summary>
    public async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var settings = Graph.ConnectorSettings.Concat(ServiceNow.ConnectorSettings)
            .Select(s => $"--{s.Key}={s.Value}")
            .Concat([
                $"--LocalHost:DataPath={_dataPath}",
                $"--LocalHost:Url=http://127.0.0.1:{LocalHostHarness.FreePort()}",
                "--Graph:ClientState=a-client-state-of-enough-length",
                "--Logging:LogLevel:Default=Warning",
            ]);
        using var output = new StringWriter();
        var exit = await LocalHostCommandLine.RunAsync([.. args, .. settings], output);
        return (exit, output.ToString());
    }

    /// <summary>A Graph user's UPN and mail, as the seed made them.</summary>
    public (string UserPrincipalName, string? Mail) NamesOf(string userId)
    {
        var user = Graph.Emulator.GetUser(userId)!;
        return (user["userPrincipalName"]!.GetValue<string>(), user["mail"]?.GetValue<string>());
    }

    public async ValueTask DisposeAsync()
    {
        await Graph.DisposeAsync();
        await ServiceNow.DisposeAsync();
        LocalHostHarness.TryDelete(_dataPath);
    }
}
