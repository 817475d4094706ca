using System.Diagnostics;
using System.Text.RegularExpressions;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Risk;

/// <summary>
/// The local host in sandbox mode for risk scenarios: consumers on, timers off (the test runs the poll), both emulators
/// in-process, users seeded in Graph and, for those the test chooses, provisioned in ServiceNow.
/// </summary>
internal sealed partial class RiskHost : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private RiskHost(LocalHostHarness host, IReadOnlyList<string> userIds)
    {
        Host = host;
        UserIds = userIds;
    }

    public LocalHostHarness Host { get; }

    public IReadOnlyList<string> UserIds { get; }

    public GraphEmulator Graph => Host.Services.GetRequiredService<GraphEmulator>();

    public ServiceNowEmulatorStore ServiceNow => Host.Services.GetRequiredService<ServiceNowEmulatorStore>();

    public static async Task<RiskHost> StartAsync(int users, int provisioned, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["LocalHost:RunTimers"] = "false",
            ["Sandbox:Seed:Users"] = "0",
            ["Sandbox:Seed:InitialSync"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var host = await LocalHostHarness.StartAsync(all);
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        ServiceNowSeed.SeedReferenceData(serviceNow);
        var userIds = graph.Seed(new GraphSeedSpec { Users = users, Groups = 0, RiskDetections = 0 }).UserIds;
        foreach (var userId in userIds.Take(provisioned))
        {
            var user = graph.GetUser(userId)!;
            serviceNow.Insert("sys_user", new Dictionary<string, string>
            {
                ["user_name"] = user["userPrincipalName"]!.GetValue<string>(),
                ["u_entra_object_id"] = userId,
            });
        }

        return new RiskHost(host, userIds);
    }

    public Task PollAsync() => Host.Services.GetServices<IScheduledJob>().RunAsync(JobNames.RiskPoll, default);

    /// <summary>Polls, then waits until the consumers have handled everything queued.</summary>
    public async Task PollAndDrainAsync()
    {
        await PollAsync();
        await DrainAsync();
    }

    public async Task DrainAsync()
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var stats = (await Host.Queues.GetStatsAsync()).Single(s => s.Queue == QueueNames.RiskDetections);
            if (stats.Depth == 0 && stats.InFlight == 0 && stats.Scheduled == 0)
            {
                Assert.Equal(0, stats.DeadLettered);
                return;
            }

            if (watch.Elapsed > Patience)
            {
                throw new TimeoutException($"risk-detections still holds {stats.Depth} queued, {stats.InFlight} in flight, {stats.Scheduled} scheduled");
            }

            await Task.Delay(25);
        }
    }

    public IReadOnlyList<IReadOnlyDictionary<string, string>> Incidents(string table = "incident") =>
        ServiceNow.Query(table, "correlation_idSTARTSWITHentra-risk:");

    public IReadOnlyDictionary<string, string> IncidentOf(string userId, string table = "incident") =>
        Assert.Single(ServiceNow.Query(table, $"correlation_idSTARTSWITHentra-risk:{userId}:"));

    public IReadOnlyList<string> WorkNotes(IReadOnlyDictionary<string, string> incident, string table = "incident") =>
        ServiceNow.Journal(table, incident["sys_id"]);

    /// <summary>Every detection id a work note of any risk incident names.</summary>
    public HashSet<string> DetectionsInIncidents() =>
        ServiceNow.Query(ServiceNowEmulatorStore.JournalTable, "element=work_notes^valueLIKE[entra-risk ")
            .SelectMany(e => Marker().Matches(e["value"]).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

    public string SysUserOf(string userId) => ServiceNow.Query("sys_user", $"u_entra_object_id={userId}").Single()["sys_id"];

    public ValueTask DisposeAsync() => Host.DisposeAsync();

    [GeneratedRegex(@"\[entra-risk (\S+) ")]
    private static partial Regex Marker();
}
