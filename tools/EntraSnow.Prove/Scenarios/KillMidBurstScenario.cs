using System.Diagnostics;
using EntraSnow.Prove.Rig;

namespace EntraSnow.Prove.Scenarios;

/// <summary>
/// The burst again, with the local host SIGKILLed half-way through and started again at once on the same data folder
/// and port: Graph keeps changing users meanwhile, and retries the notifications nobody acknowledged.
/// </summary>
internal sealed class KillMidBurstScenario : IScenario
{
    public string Name => "kill-9 mid-burst";

    public string What => "the local host killed with SIGKILL half-way through a burst, restarted at once; Graph retries what went unanswered";

    public async Task<ScenarioResult> RunAsync(ProofContext context, CancellationToken cancellationToken)
    {
        var scale = context.Scale;
        var folder = context.FolderFor("kill-mid-burst");
        await using var stage = await Stage.StartAsync(folder, context.Secrets, scale.BurstUsers, cancellationToken: cancellationToken);
        var settings = stage.HostSettings(ChildLocalHost.FreeLoopbackUrl(), Path.Combine(folder, "data"));
        var log = Path.Combine(folder, "local-host.log");
        var host = await ChildLocalHost.StartAsync(settings, folder, log);
        try
        {
            if (!await stage.WaitForSubscriptionAsync(host.BaseUrl, TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("The local host did not subscribe to Graph's user changes.");
            }

            var wall = Stopwatch.StartNew();
            var restart = new KilledAndRestarted(stage);
            var burst = new ChangeBurst(stage, "kill-burst", scale.BurstChanges, scale.BurstUsers);
            await burst.RunAsync(scale.BurstChanges / 2, async () =>
            {
                var atKill = burst.Made;
                host = await restart.KillAndStartAgainAsync(host, settings, folder, log);
                context.Say(Name, $"killed pid {restart.KilledProcessId} at change {atKill}; the new host answered after {restart.Healthy.TotalSeconds:F1} s");
            }, cancellationToken);
            context.Say(Name, $"{burst.Made} changes made, {burst.Unacknowledged} unanswered while the host was down; waiting for ServiceNow");
            var resumed = await restart.WaitUntilResumedAsync();
            var outcome = await Settling.WaitAsync(stage, host.Client, burst.Touched, TimeSpan.FromSeconds(30));
            return new ScenarioResult
            {
                Scenario = Name,
                Events = burst.Made,
                Lost = outcome.Final.OutOfStep,
                Duplicated = outcome.Final.Duplicated(burst.Made),
                DeadLettered = outcome.Health?.DeadLettered ?? -1,
                Recovery = resumed,
                RecoveryTarget = TimeSpan.FromSeconds(10),
                RecoveryMeaning = "SIGKILL → restarted host writing to ServiceNow again",
                Wall = wall.Elapsed,
                Settled = outcome.Settled,
                Notes = $"new host healthy {restart.Healthy.TotalSeconds:F1} s after the kill; {burst.Unacknowledged} notifications unanswered while down, " +
                    $"retried by Graph; caught up {restart.SinceKill.TotalSeconds:F1} s after the kill; {outcome.Final.UserInserts} inserts, {outcome.Final.UserWrites} writes",
            };
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
