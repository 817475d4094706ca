using System.Diagnostics;
using System.Globalization;
using EntraSnow.LocalHost.Cli;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.LocalHost.Tests.Cli;

/// <summary>
/// The <c>sweep</c> command as its own OS process, killed with SIGKILL half-way (no shutdown code runs), then run again
/// on the same data folder: every inactive account ends up with exactly one review task.
/// </summary>
public sealed class SweepKilledMidRunTests : IAsyncLifetime
{
    private readonly string _dataPath = LocalHostHarness.NewDataPath();
    private GraphEmulatorServer _graph = null!;
    private ServiceNowEmulatorServer _serviceNow = null!;

    public async Task InitializeAsync()
    {
        _graph = await GraphEmulatorServer.StartAsync();
        _serviceNow = await ServiceNowEmulatorServer.StartAsync(seed: true);
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        await _serviceNow.DisposeAsync();
        LocalHostHarness.TryDelete(_dataPath);
    }

    private string[] Settings() =>
    [
        .. _graph.ConnectorSettings.Concat(_serviceNow.ConnectorSettings).Select(s => $"--{s.Key}={s.Value}"),
        $"--LocalHost:DataPath={_dataPath}",
        $"--LocalHost:Url=http://127.0.0.1:{LocalHostHarness.FreePort()}",
        "--Graph:ClientState=a-client-state-of-enough-length",
        "--InactiveSweep:AssignmentGroup=Identity and Access Management",
        "--InactiveSweep:MaxConcurrency=2",
        "--Logging:LogLevel:Default=Warning",
    ];

    private List<string> Tasks() =>
        _serviceNow.Store.Query("sc_task", "correlation_idSTARTSWITHentra-inactive:").Select(t => t["correlation_id"]).ToList();

    private List<string> ExpectedInactive(GraphSeedResult seeded, DateTimeOffset now) =>
        seeded.UserIds.Where(id =>
        {
            var doc = _graph.Emulator.GetUser(id)!;
            return doc["accountEnabled"]!.GetValue<bool>()
                && (doc["signInActivity"]?["lastSuccessfulSignInDateTime"]?.GetValue<string>() is { } last
                    ? DateTimeOffset.Parse(last, CultureInfo.InvariantCulture) <= now.AddDays(-90)
                    : DateTimeOffset.Parse(doc["createdDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture) <= now.AddDays(-30));
        }).ToList();

    [Fact]
    public async Task A_sweep_killed_with_sigkill_then_run_again_raises_every_account_exactly_once()
    {
        var seeded = _graph.Seed(new GraphSeedSpec { Users = 3000, Groups = 3 });
        var expected = ExpectedInactive(seeded, DateTimeOffset.UtcNow);
        // Slow enough that the kill lands while tasks are still being created.
        _serviceNow.Faults.Latency = TimeSpan.FromMilliseconds(15);

        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "EntraSnow.LocalHost.dll"));
        info.ArgumentList.Add("sweep");
        foreach (var arg in Settings())
        {
            info.ArgumentList.Add(arg);
        }

        using (var sweep = Process.Start(info)!)
        {
            sweep.OutputDataReceived += (_, _) => { };
            sweep.ErrorDataReceived += (_, _) => { };
            sweep.BeginOutputReadLine();
            sweep.BeginErrorReadLine();
            await Eventually.AssertAsync(() => Tasks().Count >= 20 || sweep.HasExited, "the first review tasks", TimeSpan.FromSeconds(120));
            sweep.Kill(entireProcessTree: true);
            await sweep.WaitForExitAsync();
        }

        var killedAt = Tasks().Count;
        _serviceNow.Faults.Latency = TimeSpan.Zero;
        using var output = new StringWriter();
        var exit = await LocalHostCommandLine.RunAsync(["sweep", .. Settings()], output);

        Assert.InRange(killedAt, 20, expected.Count - 1);
        Assert.Equal(0, exit);
        var tasks = Tasks();
        Assert.Equal(tasks.Count, tasks.Distinct().Count());
        Assert.Equal(expected.Order(), tasks.Select(c => c.Split(':')[1]).Order());
    }
}
