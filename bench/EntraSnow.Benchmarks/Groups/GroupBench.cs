using System.Diagnostics;
using System.Globalization;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.Stores;
using EntraSnow.Benchmarks.Hosting;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.Benchmarks.Groups;

/// <summary>What one round of group work measured: wall and CPU time, both emulators' counters, the process's memory.</summary>
internal sealed record GroupRound(string Label, TimeSpan Wall, TimeSpan Cpu, long ChangeRecords, long ChangeRequestCalls, long ServiceNowCalls, long ServiceNowWrites,
    long GraphRequests, long PeakBytes, long BaselineBytes)
{
    public static string Header =>
        "| round | wall | CPU | change records | records/s | ServiceNow calls: change_request / all | change_request calls per record | all calls per record | ServiceNow writes | Graph requests | peak RSS (before) |\n" +
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";

    public string Row()
    {
        var inv = CultureInfo.InvariantCulture;
        string PerRecord(long calls) => ChangeRecords == 0 ? "-" : (calls / (double)ChangeRecords).ToString("F2", inv);
        return string.Create(inv,
            $"| {Label} | {Wall.TotalSeconds:F1} s | {Cpu.TotalSeconds:F1} s | {ChangeRecords:N0} | {(ChangeRecords == 0 ? "-" : (ChangeRecords / Wall.TotalSeconds).ToString("F1", inv))} | " +
            $"{ChangeRequestCalls:N0} / {ServiceNowCalls:N0} | {PerRecord(ChangeRequestCalls)} | {PerRecord(ServiceNowCalls)} | {ServiceNowWrites:N0} | {GraphRequests:N0} | " +
            $"{PeakRss.MiB(PeakBytes)} ({PeakRss.MiB(BaselineBytes)}) |");
    }
}

/// <summary>
/// The local host in sandbox mode with both emulators in-process, its timers off: a benchmark stages changes in the Graph
/// emulator, sends the notifications Graph would, and waits until the group-changes queue has done everything.
/// </summary>
internal sealed class GroupBench(SandboxLocalHost host) : IAsyncDisposable
{
    // The flow's own names (internal to it): the table and correlation prefix of its records, the runs' session, the baseline's checkpoint.
    public const string ChangeTable = "change_request";
    public const string CorrelationPrefix = "entra-group:";
    private const string DeltaSessionKey = "groups-delta";
    private const string BaselineKey = "groupchanges:baseline";

    public GraphEmulator Graph => host.Graph;

    public ServiceNowEmulatorStore ServiceNow => host.ServiceNow;

    private ServiceNowEmulatorCounters Counters => host.Services.GetRequiredService<ServiceNowEmulatorCounters>();

    private SqliteQueueStore Queues => host.Services.GetRequiredService<SqliteQueueStore>();

    public static async Task<GroupBench> StartAsync(IEnumerable<string> settings, CancellationToken cancellationToken) =>
        new(await SandboxLocalHost.StartEmptyAsync(settings, cancellationToken));

    /// <summary>Users already provisioned: each gets its sys_user in the ServiceNow emulator directly, so only group work is measured.</summary>
    public void ProvisionUsers(IEnumerable<string> userIds) => MirroredTenant.ProvisionUsers(Graph, ServiceNow, userIds);

    /// <summary>The groups read from scratch, as a full sync's group step or a first start does; the first such reading is the change records' baseline.</summary>
    public Task ReadFromScratchAsync(CancellationToken cancellationToken) => SendAsync(new ChangeMessage
    {
        MessageId = $"bench.from-scratch:{Guid.NewGuid():N}",
        SessionKey = DeltaSessionKey,
        Kind = MessageKinds.GroupDeltaResync,
        TenantId = "sandbox",
        SubjectId = "groups",
        ChangedAt = DateTimeOffset.UtcNow,
        CorrelationId = Guid.NewGuid().ToString("N"),
        Properties = new Dictionary<string, string> { [ProvisioningMessageProperties.FromScratch] = "true" },
    }, cancellationToken);

    /// <summary>The change notification Graph sends for a group.</summary>
    public Task NotifyAsync(string groupId, CancellationToken cancellationToken) => SendAsync(new ChangeMessage
    {
        MessageId = $"bench.notification:{Guid.NewGuid():N}",
        SessionKey = groupId,
        Kind = MessageKinds.GroupUpdated,
        TenantId = "sandbox",
        SubjectId = groupId,
        ChangedAt = DateTimeOffset.UtcNow,
        CorrelationId = Guid.NewGuid().ToString("N"),
    }, cancellationToken);

    public async Task<bool> HasBaselineAsync(CancellationToken cancellationToken) =>
        await host.Services.GetRequiredService<ICheckpointStore>().GetAsync(BaselineKey, cancellationToken) is not null;

    /// <summary>Runs <paramref name="work"/> (which stages changes and notifies), waits until the queues are drained, and reads the counters.</summary>
    public async Task<GroupRound> MeasureAsync(string label, Func<Task> work, CancellationToken cancellationToken)
    {
        var changeRecordsBefore = Counters.Served("POST", ChangeTable);
        var changeCallsBefore = Counters.Reads(ChangeTable) + Counters.Writes(ChangeTable);
        var callsBefore = Counters.Reads() + Counters.Writes();
        var writesBefore = Counters.Writes();
        var graphBefore = Graph.RequestCount;
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        await using var rss = PeakRss.Start();
        var watch = Stopwatch.StartNew();
        await work();
        await DrainAsync(cancellationToken);
        watch.Stop();
        process.Refresh();
        return new GroupRound(label, watch.Elapsed, process.TotalProcessorTime - cpuBefore, Counters.Served("POST", ChangeTable) - changeRecordsBefore,
            Counters.Reads(ChangeTable) + Counters.Writes(ChangeTable) - changeCallsBefore, Counters.Reads() + Counters.Writes() - callsBefore,
            Counters.Writes() - writesBefore, Graph.RequestCount - graphBefore, rss.Peak, rss.Baseline);
    }

    private Task SendAsync(ChangeMessage message, CancellationToken cancellationToken) => Queues.SendAsync(QueueNames.GroupChanges, [message], cancellationToken);

    /// <summary>Waits until the group-changes and user-changes queues hold nothing (a dead letter ends the benchmark).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var stats = await Queues.GetStatsAsync(cancellationToken);
            if (stats.Where(s => s.Queue is QueueNames.GroupChanges or QueueNames.UserChanges).All(s => s is { Depth: 0, InFlight: 0, Scheduled: 0 }))
            {
                return;
            }

            if (stats.Sum(s => s.DeadLettered) > 0)
            {
                throw new InvalidOperationException("A message was dead-lettered: " + string.Join(", ", stats.Where(s => s.DeadLettered > 0).Select(s => s.Queue)));
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    public ValueTask DisposeAsync() => host.DisposeAsync();
}
