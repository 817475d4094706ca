using System.Diagnostics;
using EntraSnow.Benchmarks.Hosting;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Messaging;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.Benchmarks.Provisioning;

/// <summary>
/// Full sync of seeded users and groups from the Graph emulator into the ServiceNow emulator, both over loopback
/// HTTP with the real connectors and flows, consumers running in parallel (one session at a time, as Service Bus
/// sessions do). Then a resync with nothing changed. Reports wall time and calls per user.
/// </summary>
internal sealed class ProvisioningBenchmark : IBenchmark
{
    public string Name => "provisioning";

    public string Description => "full sync of 10,000 users and 500 groups into the ServiceNow emulator, then change-to-write latency through the local host";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--users", 10_000), BenchmarkOption.Number("--groups", 500, minimum: 0), BenchmarkOption.Number("--workers", 16), BenchmarkOption.Number("--changes", 200)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var users = arguments.Number("--users");
        var groups = arguments.Number("--groups");
        var workers = arguments.Number("--workers");
        await using var flows = await FlowsOverEmulators.StartAsync(workers, cancellationToken);
        var (graph, serviceNow, queue, provider) = (flows.Graph, flows.ServiceNow, flows.Queue, flows.Services);
        var seedWatch = Stopwatch.StartNew();
        var seeded = graph.Seed(new GraphSeedSpec { Users = users, Groups = groups, GroupsPerUser = 2, RiskDetections = 0 });
        Console.WriteLine($"seeded {seeded.UserIds.Count} users, {seeded.GroupIds.Count} groups, {seeded.Memberships} memberships in {seedWatch.Elapsed.TotalSeconds:F1} s");

        var sync = provider.GetRequiredService<FullSyncRunner>();
        var snCounter = provider.GetRequiredService<ServiceNowCallCounter>();
        var graphCounter = provider.GetRequiredService<GraphCallCounter>();

        var first = await MeasureAsync("initial full sync", sync, snCounter, graphCounter, serviceNow, cancellationToken);
        var second = await MeasureAsync("resync, nothing changed", sync, snCounter, graphCounter, serviceNow, cancellationToken);
        var latency = await MeasureLatencyAsync(graph, queue, seeded.UserIds, arguments.Number("--changes"), cancellationToken);

        Console.WriteLine();
        Console.WriteLine($"| run | wall time | users created | ServiceNow calls / created user (user phase) | ServiceNow calls / user (all) | Graph calls / user | ServiceNow writes |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in new[] { first, second })
        {
            Console.WriteLine($"| {r.Label} | {r.Wall.TotalSeconds:F1} s | {r.Created} | {r.UserPhaseCallsPerCreated:F3} | {r.CallsPerUser:F3} | {r.GraphPerUser:F3} | {r.Writes} |");
        }

        Console.WriteLine();
        Console.WriteLine($"change in the Graph emulator -> user.updated handled -> sys_user written (flow only, in-process queue, no intake): " +
            $"p50 {latency.P50:F1} ms, p95 {latency.P95:F1} ms, p99 {latency.P99:F1} ms over {latency.Count} changes");
        var endToEnd = await MeasureLocalHostLatencyAsync(arguments.Number("--changes"), cancellationToken);
        Console.WriteLine($"change in the Graph emulator -> notification -> local host intake -> SQLite queue -> consumer -> sys_user written: " +
            $"p50 {endToEnd.P50:F1} ms, p95 {endToEnd.P95:F1} ms, p99 {endToEnd.P99:F1} ms over {endToEnd.Count} changes");
        Console.WriteLine($"targets: <= 1.2 ServiceNow calls per created user -> {(first.UserPhaseCallsPerCreated <= 1.2 ? "met" : "MISSED")}; zero writes on resync -> {(second.Writes == 0 ? "met" : "MISSED")}; " +
            $"p95 < 500 ms through the local host -> {(endToEnd.P95 < 500 ? "met" : "MISSED")}");
        return first.UserPhaseCallsPerCreated <= 1.2 && second.Writes == 0 && endToEnd.P95 < 500 ? 0 : 1;
    }

    private static async Task<RunFigures> MeasureAsync(string label, FullSyncRunner sync, ServiceNowCallCounter sn, GraphCallCounter graph,
        ServiceNowEmulatorServer emulator, CancellationToken cancellationToken)
    {
        sn.Reset();
        graph.Reset();
        emulator.Counters.Reset();
        const long writesBefore = 0;
        long userPhaseCalls = -1;
        var watch = Stopwatch.StartNew();
        var lastPrint = TimeSpan.Zero;
        var progress = new SyncProgressSink(p =>
        {
            if (p.Phase == SyncPhase.ProvisioningGroups && userPhaseCalls < 0)
            {
                userPhaseCalls = sn.Total;
                if (Environment.GetEnvironmentVariable("ENTRASNOW_BENCH_DETAIL") == "1")
                {
                    Console.WriteLine("  user phase calls by table: " + string.Join(", ", emulator.Counters.Snapshot().Where(kv => kv.Value > 0).Select(kv => $"{kv.Key}={kv.Value}")));
                }
            }

            if (watch.Elapsed - lastPrint > TimeSpan.FromSeconds(2))
            {
                lastPrint = watch.Elapsed;
                Console.WriteLine($"  {label}: {p.Phase} {p.UsersDone}/{p.UsersQueued} users, {watch.Elapsed.TotalSeconds:F0} s");
            }
        });
        var final = await sync.RunAsync(progress, fromScratch: true, cancellationToken);
        watch.Stop();
        if (userPhaseCalls < 0)
        {
            userPhaseCalls = sn.Total;
        }

        var u = final.Summary.Users;
        var figures = new RunFigures(label, watch.Elapsed, u.Created,
            u.Created == 0 ? 0 : (double)userPhaseCalls / u.Created,
            (double)sn.Total / Math.Max(1, final.UsersQueued),
            (double)graph.Requests / Math.Max(1, final.UsersQueued),
            emulator.Counters.Writes() - writesBefore);
        Console.WriteLine($"{label}: {watch.Elapsed.TotalSeconds:F1} s; users {u.Created} created, {u.Updated} updated, {u.Unchanged} unchanged, {u.Deactivated} deactivated, {u.Skipped} skipped, {u.Failed} failed; " +
            $"groups {final.Summary.Groups.Created} created, {final.Summary.Groups.Unchanged} unchanged; ServiceNow calls {sn.Total} (user phase {userPhaseCalls}), Graph calls {graph.Requests}{(final.TimedOut ? "; TIMED OUT" : string.Empty)}");
        foreach (var failure in final.Summary.Failures.Take(5))
        {
            Console.WriteLine($"  failed {failure.SubjectId}: {failure.Reason}");
        }

        return figures;
    }

    /// <summary>
    /// One change at a time: PATCH a user in the Graph emulator, queue the user.updated signal as intake would, and time
    /// until the consumer has written it. Intake and the local host's SQLite queue are not in this figure.
    /// </summary>
    private static async Task<(double P50, double P95, double P99, int Count)> MeasureLatencyAsync(GraphEmulatorServer graph, ConcurrentSessionQueue queue,
        IReadOnlyList<string> userIds, int changes, CancellationToken cancellationToken)
    {
        var samples = new List<double>(changes);
        var random = new Random(7);
        for (var i = 0; i < changes; i++)
        {
            var userId = userIds[random.Next(userIds.Count)];
            var messageId = $"bench-change-{i}";
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnProcessed(string id)
            {
                if (id == messageId)
                {
                    done.TrySetResult();
                }
            }

            queue.Processed += OnProcessed;
            var watch = Stopwatch.StartNew();
            await graph.Emulator.ChangeUserAsync(userId, new System.Text.Json.Nodes.JsonObject { ["jobTitle"] = $"Title {i}" }, cancellationToken);
            await queue.SendAsync(QueueNames.UserChanges,
            [
                new ChangeMessage
                {
                    MessageId = messageId, SessionKey = userId, Kind = MessageKinds.UserUpdated, TenantId = "bench", SubjectId = userId,
                    ChangedAt = DateTimeOffset.UtcNow, CorrelationId = messageId,
                },
            ], cancellationToken);
            await done.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            samples.Add(watch.Elapsed.TotalMilliseconds);
            queue.Processed -= OnProcessed;
        }

        samples.Sort();
        double At(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
        return (At(0.50), At(0.95), At(0.99), samples.Count);
    }

    /// <summary>
    /// The local host in sandbox mode (emulators in-process, real intake, SQLite queues, real consumers): PATCH a user in
    /// the Graph emulator, which notifies the host over HTTP, and time until the sys_user carries the change.
    /// </summary>
    private static async Task<(double P50, double P95, double P99, int Count)> MeasureLocalHostLatencyAsync(int changes, CancellationToken cancellationToken)
    {
        await using var host = await SandboxLocalHost.StartAsync(["--Sandbox:Seed:Users=200", "--Sandbox:Seed:Groups=0"], cancellationToken);
        var (graph, store) = (host.Graph, host.ServiceNow);
        var ready = Stopwatch.StartNew();
        while (store.Query("sys_user", "u_entra_object_idISNOTEMPTY^active=true").Count < 150 || graph.Subscriptions.Count == 0)
        {
            if (ready.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException("The sandbox local host did not provision its seed or subscribe within 2 minutes.");
            }

            await Task.Delay(50, cancellationToken);
        }

        var users = store.Query("sys_user", "u_entra_object_idISNOTEMPTY^active=true").ToList();
        var samples = new List<double>(changes);
        for (var i = 0; i < changes; i++)
        {
            var user = users[i % users.Count];
            var title = $"Latency {i}";
            var watch = Stopwatch.StartNew();
            await graph.ChangeUserAsync(user["u_entra_object_id"], new System.Text.Json.Nodes.JsonObject { ["jobTitle"] = title }, cancellationToken);
            // Watching the emulator's table is the only way to see the write land; a 1 ms poll bounds the error.
            while (store.Get("sys_user", user["sys_id"])?.GetValueOrDefault("title") != title)
            {
                if (watch.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new TimeoutException($"Change {i} never reached ServiceNow.");
                }

                await Task.Delay(1, cancellationToken);
            }

            samples.Add(watch.Elapsed.TotalMilliseconds);
        }

        samples.Sort();
        double At(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
        return (At(0.50), At(0.95), At(0.99), samples.Count);
    }

    private sealed record RunFigures(string Label, TimeSpan Wall, int Created, double UserPhaseCallsPerCreated, double CallsPerUser, double GraphPerUser, long Writes);

    private sealed class SyncProgressSink(Action<SyncProgress> report) : IProgress<SyncProgress>
    {
        public void Report(SyncProgress value) => report(value);
    }
}
