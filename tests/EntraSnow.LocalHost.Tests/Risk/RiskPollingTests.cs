using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Risk;

/// <summary>The risk poller in the local host, against the Graph emulator's Identity Protection and its 1 request/s limit.</summary>
public sealed class RiskPollingTests
{
    [Fact]
    public async Task Polling_queues_every_detection_once_in_as_many_Graph_calls_as_pages_and_a_second_poll_queues_nothing_new()
    {
        await using var host = await LocalHostHarness.StartAsync(new Dictionary<string, string?>
        {
            ["LocalHost:RunConsumers"] = "false",
            ["LocalHost:RunTimers"] = "false",
            ["Sandbox:Seed:Users"] = "0",
            ["Sandbox:Seed:InitialSync"] = "false",
        });
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var userIds = graph.Seed(new GraphSeedSpec { Users = 20, Groups = 0, RiskDetections = 0 }).UserIds;
        for (var i = 0; i < 600; i++)
        {
            graph.AddRiskDetection(userIds[i % userIds.Count], detectedAt: DateTimeOffset.UtcNow.AddMinutes(-i));
        }

        var jobs = host.Services.GetServices<IScheduledJob>();
        await jobs.RunAsync(JobNames.RiskPoll, default);
        await jobs.RunAsync(JobNames.RiskPoll, default);

        var depth = (await host.Queues.GetStatsAsync()).Single(s => s.Queue == QueueNames.RiskDetections).Depth;
        Assert.Equal(600, depth);
        // 600 detections are two pages of 500: two calls a poll, never sooner than a second apart.
        Assert.Equal(4, graph.IdentityProtection.Served);
        Assert.Equal(0, graph.IdentityProtection.Refused);
        Assert.True(graph.IdentityProtection.ShortestGap >= TimeSpan.FromSeconds(1));
    }
}
