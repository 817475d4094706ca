using System.Diagnostics;
using EntraSnow.Prove.Rig;

namespace EntraSnow.Prove.Scenarios;

/// <summary>
/// A full sync of users ServiceNow does not have yet, run by the <c>sync</c> command (the local host, consumers and all,
/// until the sync is done), SIGKILLed once a quarter of the users are in ServiceNow; <c>serve</c> on the same folder
/// and port at once after.
/// </summary>
internal sealed class KillMidSyncScenario : IScenario
{
    public string Name => "kill-9 mid-sync";

    public string What => "the `sync` command killed with SIGKILL a quarter into a full sync, the host started again at once; the sync finishes, nobody twice";

    public async Task<ScenarioResult> RunAsync(ProofContext context, CancellationToken cancellationToken)
    {
        var users = context.Scale.SyncUsers;
        var folder = context.FolderFor("kill-mid-sync");
        await using var stage = await Stage.StartAsync(folder, context.Secrets, users, cancellationToken: cancellationToken);
        var settings = stage.HostSettings(ChildLocalHost.FreeLoopbackUrl(), Path.Combine(folder, "data"));
        var log = Path.Combine(folder, "local-host.log");
        var wall = Stopwatch.StartNew();
        // With no host serving the folder, `sync` is the local host: it queues every user and its own consumers provision them.
        var host = await ChildLocalHost.StartAsync(settings, folder, log, command: "sync");
        try
        {
            int Provisioned() => stage.ServiceNow.Store.Count("sys_user");
            if (!await Converge.UntilAsync(() => Task.FromResult(Provisioned() >= users / 4), TimeSpan.FromSeconds(60)))
            {
                throw new TimeoutException("The full sync provisioned nobody within a minute.");
            }

            var restart = new KilledAndRestarted(stage);
            var atKill = Provisioned();
            host = await restart.KillAndStartAgainAsync(host, settings, folder, log);
            context.Say(Name, $"killed pid {restart.KilledProcessId} with {atKill} of {users} users in ServiceNow; the new host answered after {restart.Healthy.TotalSeconds:F1} s");
            var resumed = await restart.WaitUntilResumedAsync();
            var outcome = await Settling.WaitAsync(stage, host.Client, stage.UserIds, TimeSpan.FromSeconds(30));
            return new ScenarioResult
            {
                Scenario = Name,
                Events = users,
                Lost = outcome.Final.OutOfStep,
                Duplicated = outcome.Final.Duplicated(users),
                DeadLettered = outcome.Health?.DeadLettered ?? -1,
                Recovery = resumed,
                RecoveryTarget = TimeSpan.FromSeconds(10),
                RecoveryMeaning = "SIGKILL → restarted host writing to ServiceNow again",
                Wall = wall.Elapsed,
                Settled = outcome.Settled,
                Notes = $"killed with {atKill} of {users} users provisioned; new host healthy {restart.Healthy.TotalSeconds:F1} s after the kill, " +
                    $"all in ServiceNow {restart.SinceKill.TotalSeconds:F1} s after it; {outcome.Final.UserInserts} inserts, {outcome.Final.UserWrites} writes",
            };
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
