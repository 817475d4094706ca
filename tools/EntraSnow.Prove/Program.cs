using System.Diagnostics;
using EntraSnow.Prove;
using EntraSnow.Prove.Rig;
using EntraSnow.Prove.Scenarios;

// The fault-injection suite of RELIABILITY.md:
//   dotnet run --project tools/EntraSnow.Prove [-- --short | --full] [--json] [--only NAME] [--keep]
// --short (default) is the form .ci/run runs; --full the figures in RELIABILITY.md. Exit code 1 when anything was lost or
// duplicated, a scenario did not settle, or a secret was found.
IScenario[] all =
[
    new BurstScenario(), new DuplicatesOutOfOrderScenario(), new KillMidBurstScenario(), new KillMidSyncScenario(), new ServiceNowOutageScenario(),
    new RateLimitStormScenario(), new CredentialRevokedScenario(), new PoisonReplayScenario(),
];

var scale = args.Contains("--full") ? ProofScale.Full : ProofScale.Short;
var json = args.Contains("--json");
var keep = args.Contains("--keep");
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
// The short form leaves out the plain burst: kill -9 mid-burst runs the same burst, with a kill in its middle.
var chosen = all.Where(s => only is null ? scale == ProofScale.Full || s is not BurstScenario : s.Name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToList();
if (chosen.Count == 0)
{
    Console.Error.WriteLine($"No scenario matches '{only}'. Scenarios: {string.Join(", ", all.Select(s => s.Name))}.");
    return 2;
}

var progress = json ? Console.Error : Console.Out;
var root = Path.Combine(Path.GetTempPath(), "entrasnow-prove", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}");
var context = new ProofContext(scale, RunSecrets.New(), root, progress);
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

progress.WriteLine($"EntraSnow fault-injection suite ({scale.Name}), working in {root}");
var wall = Stopwatch.StartNew();
var results = new List<ScenarioResult>();
foreach (var scenario in chosen)
{
    progress.WriteLine($"- {scenario.Name}: {scenario.What}");
    var watch = Stopwatch.StartNew();
    try
    {
        results.Add(await scenario.RunAsync(context, cancel.Token));
    }
    catch (Exception ex) when (ex is not OperationCanceledException || !cancel.IsCancellationRequested)
    {
        // A scenario that could not run is a failure with its reason, and the others still run.
        results.Add(new ScenarioResult
        {
            Scenario = scenario.Name, Events = 0, Lost = 0, Duplicated = 0, DeadLettered = 0, Settled = false, Wall = watch.Elapsed,
            Notes = $"{ex.GetType().Name}: {ex.Message}",
        });
    }

    progress.WriteLine($"  done in {watch.Elapsed.TotalSeconds:F1} s");
}

var scan = SecretsScan.Run(root, context.Secrets);
if (json)
{
    ResultsTable.WriteJson(Console.Out, scale, results, scan, wall.Elapsed);
}
else
{
    ResultsTable.WriteMarkdown(Console.Out, scale, results, scan, wall.Elapsed);
}

var passed = ResultsTable.Passed(results, scan);
if (keep || !passed)
{
    progress.WriteLine($"Logs, queues and databases kept in {root}");
}
else
{
    Directory.Delete(root, recursive: true);
}

return passed ? 0 : 1;
