using System.Globalization;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Spectre.Console;

namespace EntraSnow.Benchmarks.Risk;

/// <summary>
/// Risk detections to ServiceNow incidents through the whole local host in sandbox mode: the risk poll reads the Graph
/// emulator's Identity Protection (which refuses a request sooner than 1 s after the previous one, as Graph does), the
/// SQLite queue carries each detection, the consumers write the ServiceNow emulator's incidents and work notes. Three
/// rounds: new detections, the same window polled again, every detection dismissed.
/// </summary>
internal sealed class RiskIncidentBenchmark : IBenchmark
{
    public string Name => "risk";

    public string Description => "risk detections -> ServiceNow incidents through the local host: detections/s, ServiceNow calls per incident, Graph requests/s under the 1 request/s limit, detection-to-incident p50/p99";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--detections", 1000), BenchmarkOption.Number("--users", 200)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var detections = arguments.Number("--detections");
        var userCount = arguments.Number("--users");
        var dataPath = Path.Combine(Path.GetTempPath(), "entrasnow-bench", Guid.NewGuid().ToString("N"));
        var watch = new IncidentWriteWatch();
        await using var host = LocalHostApp.Build(
        [
            $"--LocalHost:Url=http://127.0.0.1:{Intake.IntakeBenchmark.FreePort()}", $"--LocalHost:DataPath={dataPath}", "--LocalHost:RunTimers=false",
            "--Sandbox:Seed:Users=0", "--Sandbox:Seed:InitialSync=false",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
        ], builder => builder.Services.AddSingleton<IStartupFilter>(watch));
        await host.StartAsync(cancellationToken);
        var load = File.Exists("/proc/loadavg") ? (await File.ReadAllTextAsync("/proc/loadavg", cancellationToken)).Split(' ')[0] : "?";
        try
        {
            var graph = host.Services.GetRequiredService<GraphEmulator>();
            var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
            var userIds = graph.Seed(new GraphSeedSpec { Users = userCount, Groups = 0, RiskDetections = 0 }).UserIds;
            foreach (var userId in userIds)
            {
                serviceNow.Insert("sys_user", new Dictionary<string, string>
                {
                    ["user_name"] = graph.GetUser(userId)!["userPrincipalName"]!.GetValue<string>(),
                    ["u_entra_object_id"] = userId,
                });
            }

            AnsiConsole.MarkupLine($"[bold]risk[/]: {detections} detections for {userIds.Count} users, {Environment.ProcessorCount} cores shared with other work, " +
                $"local host with both emulators in-process, load average {load} at the start");
            var ids = new List<string>(detections);
            var round = new RiskRound(host.Services, watch);
            var created = round.Stage(() =>
            {
                for (var i = 0; i < detections; i++)
                {
                    ids.Add(graph.CreateRiskDetection(userIds[i % userIds.Count], (i % 3) switch { 0 => "high", 1 => "medium", _ => "low" }, "unfamiliarFeatures")!["id"]!.GetValue<string>());
                }

                return ids.Select(id => (id, "atRisk")).ToList();
            });
            var first = await round.RunAsync("new detections", created, cancellationToken);
            var again = await round.RunAsync("same window polled again", [], cancellationToken);
            var dismissed = round.Stage(() => ids.Select(id => (graph.ChangeRiskState(id, "dismissed")!["id"]!.GetValue<string>(), "dismissed")).ToList());
            var closing = await round.RunAsync("every detection dismissed", dismissed, cancellationToken);

            var incidents = serviceNow.Query("incident", "correlation_idSTARTSWITHentra-risk:");
            var resolved = incidents.Count(i => i["state"] == "6");
            var table = new Table().AddColumns("round", "detections", "incidents opened", "wall s", "bound s", "wall / bound", "drained after last page s", "detections/s", "CPU ms / detection",
                "SN calls", "SN calls / detection", "SN calls / incident", "Graph requests", "refused (429)", "max Graph requests in 1 s", "p50 ms", "p99 ms", "max ms");
            foreach (var r in new[] { first, again, closing })
            {
                table.AddRow(r.Label, N(r.Detections), N(r.IncidentsOpened), F(r.Wall.TotalSeconds), F(r.Bound.TotalSeconds), r.Bound > TimeSpan.Zero ? F(r.Wall / r.Bound) : "-", F(r.AfterLastPage.TotalSeconds),
                    r.Detections > 0 ? F(r.Detections / r.Wall.TotalSeconds) : "-", r.Detections > 0 ? F(r.Cpu.TotalMilliseconds / r.Detections) : "-", N(r.ServiceNowCalls), r.Detections > 0 ? F((double)r.ServiceNowCalls / r.Detections) : "-",
                    r.IncidentsOpened > 0 ? F((double)r.ServiceNowCalls / r.IncidentsOpened) : "-", N(r.GraphServed), N(r.GraphRefused), N(r.MostGraphRequestsInOneSecond),
                    F(r.Percentile(50)), F(r.Percentile(99)), F(r.Percentile(100)));
            }

            AnsiConsole.Write(table);
            var everyone = first.Written == detections && closing.Written == detections;
            var withinLimit = new[] { first, again, closing }.All(r => r.GraphRefused == 0 && r.MostGraphRequestsInOneSecond <= 1);
            AnsiConsole.MarkupLine($"incidents: {incidents.Count} for {userIds.Count} users, {resolved} resolved after the dismissals; " +
                $"every detection written to its incident: {(everyone ? "[green]yes[/]" : "[red]NO[/]")}; " +
                $"Identity Protection's 1 request/s kept: {(withinLimit ? "[green]yes[/]" : "[red]NO[/]")}");
            return everyone && withinLimit && incidents.Count == userIds.Count && resolved == userIds.Count ? 0 : 1;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dataPath, recursive: true);
            }
            catch (IOException)
            {
                // Temp files left behind are harmless.
            }
        }
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value) => double.IsNaN(value) ? "-" : value.ToString(value >= 100 ? "0" : "0.00", CultureInfo.InvariantCulture);
}
