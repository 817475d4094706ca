using EntraSnow.LocalHost.Cli;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.LocalHost.Tests.Cli;

/// <summary>
/// <c>sync</c> run from another terminal while a local host serves the same data folder: the command queues the users in
/// the shared queue file and the serving host's consumers provision them. The host runs on a clock that never moves, so
/// its idle poll (30 s) cannot be what makes them look: only the command's call can.
/// </summary>
public sealed class SyncBesideServingHostTests
{
    [Fact]
    public async Task A_sync_beside_a_serving_host_is_taken_by_that_hosts_consumers_at_once()
    {
        // An hour ahead of the command's real clock, so what the command queues (due at its "now") is due for the host.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1));
        await using var host = await LocalHostHarness.StartAsync(new Dictionary<string, string?>
        {
            ["LocalHost:RunTimers"] = "false",
            ["Sandbox:Seed:Users"] = "0",
            ["Sandbox:Seed:InitialSync"] = "false",
        }, configure: builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        var users = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            users.Add(await graph.CreateUserAsync($"Beside User {i}"));
        }

        using var output = new StringWriter();
        var exit = await LocalHostCommandLine.RunAsync(
            ["sync", $"--LocalHost:DataPath={host.DataPath}", $"--LocalHost:Url={host.BaseUrl}", "--Logging:LogLevel:Default=Warning"], output)
            .WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(exit == 0, output.ToString());
        Assert.Contains($"A local host is serving at {host.BaseUrl}: its consumers will do the work", output.ToString(), StringComparison.Ordinal);
        Assert.All(users, id => Assert.Single(serviceNow.Query("sys_user", $"u_entra_object_id={id}")));
    }
}
