using System.ComponentModel.DataAnnotations;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Stores;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>Settings under <c>Sandbox:Seed</c>: what a newcomer's first sandbox run contains.</summary>
public sealed class SandboxSeedOptions
{
    public const string Section = "Sandbox:Seed";

    [Range(0, 100_000)]
    public int Users { get; set; } = 25;

    [Range(0, 5_000)]
    public int Groups { get; set; } = 5;

    /// <summary>Run a full sync once the sandbox is seeded, so ServiceNow holds the users from the first minute.</summary>
    public bool InitialSync { get; set; } = true;
}

/// <summary>
/// On the first start in sandbox mode: seeds the Graph emulator with users and groups and ServiceNow with reference data,
/// then starts one full sync, so the out-of-the-box run shows users arriving in ServiceNow. Later starts find the
/// checkpoint and do nothing.
/// </summary>
internal sealed class SandboxFirstRun(
    IServiceProvider services,
    SandboxMode sandbox,
    ICheckpointStore checkpoints,
    IOptions<SandboxSeedOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<SandboxFirstRun> logger) : BackgroundService
{
    private const string SeededKey = "sandbox:seeded";

    /// <summary>
    /// ServiceNow's reference data goes in before the host has started (straight into the emulator's store): the
    /// flows' start-up checks look up their assignment groups as soon as it has, and must find the seeded ones.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (sandbox.ServiceNow && await checkpoints.GetAsync(SeededKey, cancellationToken) is null)
        {
            var seeded = ServiceNowSeed.SeedReferenceData(services.GetRequiredService<ServiceNowEmulatorStore>());
            logger.LogInformation("Sandbox ServiceNow seeded: {Departments} departments, {Locations} locations, {Groups} groups",
                seeded.Departments, seeded.Locations, seeded.Groups);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The Graph emulator is served by this process: wait until it listens.
        await WaitForStartAsync(lifetime, stoppingToken);
        if (await checkpoints.GetAsync(SeededKey, stoppingToken) is not null)
        {
            return;
        }

        var settings = options.Value;

        if (sandbox.Graph && settings.Users > 0)
        {
            var emulator = services.GetRequiredService<GraphEmulator>();
            var seeded = emulator.Seed(new GraphSeedSpec { Users = settings.Users, Groups = settings.Groups });
            logger.LogInformation("Sandbox Graph seeded: {Users} users, {Groups} groups, {Memberships} memberships",
                seeded.UserIds.Count, seeded.GroupIds.Count, seeded.Memberships);
            if (sandbox.ServiceNow)
            {
                AddMissingReferences(emulator, seeded.UserIds, services.GetRequiredService<ServiceNowEmulatorStore>());
            }
        }

        await checkpoints.SetAsync(SeededKey, DateTimeOffset.UtcNow.ToString("O"), stoppingToken);
        if (settings.InitialSync)
        {
            var runId = await services.GetRequiredService<FullSyncRunner>().StartAsync(fromScratch: true, stoppingToken);
            logger.LogInformation("Sandbox initial full sync {RunId} started: watch it with `log --run {RunId}` or `queues`", runId, runId);
        }
    }

    /// <summary>
    /// Gives the sandbox ServiceNow every department and office the seeded users carry, so the first run provisions
    /// everyone; a real instance is expected to hold its reference data already (the reference policy decides otherwise).
    /// </summary>
    private static void AddMissingReferences(GraphEmulator emulator, IReadOnlyList<string> userIds, ServiceNowEmulatorStore store)
    {
        var users = userIds.Select(emulator.GetUser).OfType<System.Text.Json.Nodes.JsonObject>().ToList();
        foreach (var (table, attribute) in new[] { ("cmn_department", "department"), ("cmn_location", "officeLocation") })
        {
            var names = users.Select(u => u[attribute]?.GetValue<string>()).OfType<string>().Where(n => n.Length > 0).Distinct(StringComparer.Ordinal);
            foreach (var name in names)
            {
                if (store.Query(table, "name=" + name.Replace("^", "^^", StringComparison.Ordinal)).Count == 0)
                {
                    store.Insert(table, new Dictionary<string, string> { ["name"] = name });
                }
            }
        }
    }

    internal static async Task WaitForStartAsync(IHostApplicationLifetime lifetime, CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var stopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        await started.Task;
    }
}
