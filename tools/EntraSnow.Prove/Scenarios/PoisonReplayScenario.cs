using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using EntraSnow.Prove.Rig;

namespace EntraSnow.Prove.Scenarios;

/// <summary>
/// Under the fail policy for departments, users moved to departments ServiceNow lacks are dead-lettered with the reason
/// while everyone else goes through; the departments are created, <c>deadletters replay</c> (the CLI, beside the
/// serving host) puts the messages back, and those users land.
/// </summary>
internal sealed class PoisonReplayScenario : IScenario
{
    public string Name => "poison → dead letter → fix → replay";

    public string What => "users in departments ServiceNow lacks (fail policy) dead-lettered with the reason; departments created, `deadletters replay`, all land";

    public async Task<ScenarioResult> RunAsync(ProofContext context, CancellationToken cancellationToken)
    {
        var scale = context.Scale;
        await using var world = await VirtualWorld.StartAsync(context, "poison-replay", scale.FaultUsers, (stage, settings) =>
        {
            AddDepartmentsOfSeededUsers(stage);
            settings["Provisioning:Mappings:department:OnMissingReference"] = "Fail";
        }, cancellationToken);
        var (clock, stage, host, settings, folder) = (world.Clock, world.Stage, world.Host, world.Settings, context.FolderFor("poison-replay"));
        var wall = Stopwatch.StartNew();
        var poisoned = stage.UserIds.Take(scale.PoisonUsers).ToList();
        for (var i = 0; i < poisoned.Count; i++)
        {
            await stage.Graph.Emulator.ChangeUserAsync(poisoned[i], new JsonObject { ["department"] = $"Prove Department {i}", ["jobTitle"] = $"poisoned {i}" }, cancellationToken);
        }

        var burst = new ChangeBurst(stage, "healthy", scale.FaultChanges, scale.FaultUsers);
        await burst.RunAsync(cancellationToken: cancellationToken);
        var healthy = burst.Touched.Except(poisoned).ToList();
        HostHealth? health = null;
        var deadLettered = await Converge.UntilAsync(async () =>
        {
            health = await host.HealthAsync();
            return health is { Outstanding: 0 } && health.DeadLettered >= poisoned.Count && Reconciliation.Of(stage, healthy).OutOfStep == 0;
        }, TimeSpan.FromSeconds(90));
        var listed = await LocalHostCommand.RunAsync(settings, folder, "deadletters", "--json");
        await File.WriteAllTextAsync(Path.Combine(folder, "deadletters.json"), listed.Output, cancellationToken);
        var reasons = Reasons(listed.Output);
        context.Say(Name, $"{health?.DeadLettered} dead-lettered, e.g. \"{reasons.FirstOrDefault()}\"; creating the departments and replaying");

        for (var i = 0; i < poisoned.Count; i++)
        {
            stage.ServiceNow.Store.Insert("cmn_department", new Dictionary<string, string> { ["name"] = $"Prove Department {i}" });
        }

        var replayWatch = Stopwatch.StartNew();
        var replay = await LocalHostCommand.RunAsync(settings, folder, "deadletters", "replay");
        await File.WriteAllTextAsync(Path.Combine(folder, "deadletters-replay.txt"), replay.Output, cancellationToken);
        var outcome = await world.SettleAsync([.. burst.Touched.Union(poisoned)]);
        var recovered = replayWatch.Elapsed;
        return new ScenarioResult
        {
            Scenario = Name,
            Events = burst.Made + poisoned.Count,
            Lost = outcome.Final.OutOfStep,
            Duplicated = outcome.Final.Duplicated(burst.Made + poisoned.Count),
            DeadLettered = health?.DeadLettered ?? -1,
            Recovery = outcome.Settled ? recovered : null,
            RecoveryMeaning = "`deadletters replay` (a separate process) → the replayed users in ServiceNow",
            Wall = wall.Elapsed,
            VirtualTime = clock.Ahead,
            Settled = deadLettered && replay.ExitCode == 0 && outcome.Settled && outcome.Health is { DeadLettered: 0 },
            Notes = $"{poisoned.Count} poisoned users dead-lettered, every reason naming the department: {reasons.Count(r => r.Contains("Prove Department", StringComparison.Ordinal))} of {reasons.Count}; " +
                $"replay: \"{replay.Output.Trim().ReplaceLineEndings(" ")}\" in {replay.Took.TotalSeconds:F1} s; {outcome.Health?.DeadLettered} dead-lettered after; " +
                $"{healthy.Count} other users provisioned meanwhile",
        };
    }

    /// <summary>As the sandbox's first run does: ServiceNow knows every department the seeded users carry.</summary>
    private static void AddDepartmentsOfSeededUsers(Stage stage)
    {
        var names = stage.UserIds.Select(stage.Graph.Emulator.GetUser).Select(u => u?["department"]?.GetValue<string>())
            .OfType<string>().Where(n => n.Length > 0).Distinct(StringComparer.Ordinal);
        foreach (var name in names.Where(n => stage.ServiceNow.Store.Query("cmn_department", "name=" + n.Replace("^", "^^", StringComparison.Ordinal)).Count == 0))
        {
            stage.ServiceNow.Store.Insert("cmn_department", new Dictionary<string, string> { ["name"] = name });
        }
    }

    private static List<string> Reasons(string json)
    {
        try
        {
            return JsonNode.Parse(json)?.AsArray().Select(l => $"{l?["reason"]}: {l?["description"]}").ToList() ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
