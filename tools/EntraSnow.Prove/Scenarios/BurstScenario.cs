using System.Diagnostics;
using EntraSnow.Prove.Rig;

namespace EntraSnow.Prove.Scenarios;

/// <summary>A burst of job-title changes in Graph as fast as Graph can notify; the local host as a child process.</summary>
internal sealed class BurstScenario : IScenario
{
    public string Name => "burst";

    public string What => "a burst of changes to users, notified by Graph as fast as it can; every change lands once";

    public async Task<ScenarioResult> RunAsync(ProofContext context, CancellationToken cancellationToken)
    {
        var scale = context.Scale;
        var folder = context.FolderFor(Name);
        await using var stage = await Stage.StartAsync(folder, context.Secrets, scale.BurstUsers, cancellationToken: cancellationToken);
        var settings = stage.HostSettings(ChildLocalHost.FreeLoopbackUrl(), Path.Combine(folder, "data"));
        await using var host = await ChildLocalHost.StartAsync(settings, folder, Path.Combine(folder, "local-host.log"));
        if (!await stage.WaitForSubscriptionAsync(host.BaseUrl, TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException("The local host did not subscribe to Graph's user changes.");
        }

        var wall = Stopwatch.StartNew();
        var burst = new ChangeBurst(stage, "burst", scale.BurstChanges, scale.BurstUsers);
        await burst.RunAsync(cancellationToken: cancellationToken);
        var notified = wall.Elapsed;
        context.Say(Name, $"{burst.Made} changes notified in {notified.TotalSeconds:F1} s; waiting for ServiceNow");
        var outcome = await Settling.WaitAsync(stage, host.Client, burst.Touched, TimeSpan.FromSeconds(30));
        return new ScenarioResult
        {
            Scenario = Name,
            Events = burst.Made,
            Lost = outcome.Final.OutOfStep,
            Duplicated = outcome.Final.Duplicated(burst.Made),
            DeadLettered = outcome.Health?.DeadLettered ?? -1,
            Recovery = outcome.Settled ? wall.Elapsed - notified : null,
            RecoveryMeaning = "last change notified → all in ServiceNow",
            Wall = wall.Elapsed,
            Settled = outcome.Settled,
            Notes = $"{burst.Touched.Count} users; {outcome.Final.UserInserts} sys_user inserts, {outcome.Final.UserWrites} writes in all " +
                $"(repeats of one user coalesced); {burst.Made / notified.TotalSeconds:F0} changes/s notified",
        };
    }
}
