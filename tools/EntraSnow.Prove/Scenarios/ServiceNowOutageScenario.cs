using System.Diagnostics;
using EntraSnow.Prove.Rig;

namespace EntraSnow.Prove.Scenarios;

/// <summary>
/// ServiceNow drops every connection for an hour of virtual time while users keep changing in Graph; the local host
/// (in-process, on the virtual clock) retries, reschedules with its backoff, and catches up once ServiceNow is back.
/// </summary>
internal sealed class ServiceNowOutageScenario : IScenario
{
    private static readonly TimeSpan Outage = TimeSpan.FromHours(1);

    public string Name => "ServiceNow outage, 1 h";

    public string What => "ServiceNow drops every connection for an hour (virtual time) during a burst; nothing dead-lettered, all lands after";

    public async Task<ScenarioResult> RunAsync(ProofContext context, CancellationToken cancellationToken)
    {
        var scale = context.Scale;
        await using var world = await VirtualWorld.StartAsync(context, "servicenow-outage", scale.FaultUsers, cancellationToken: cancellationToken);
        var (clock, stage, host) = (world.Clock, world.Stage, world.Host);
        var wall = Stopwatch.StartNew();
        var time = world.Time;
        var start = clock.GetUtcNow();
        stage.ServiceNow.Faults.Outage = true;
        var burst = new ChangeBurst(stage, "outage", scale.FaultChanges, scale.FaultUsers);
        await burst.RunAsync(cancellationToken: cancellationToken);
        await time.PassAsync(start + Outage - clock.GetUtcNow());
        var during = await host.Queues.GetStatsAsync(cancellationToken);
        stage.ServiceNow.Faults.Outage = false;
        var back = clock.GetUtcNow();
        context.Say(Name, $"{burst.Made} changes made; ServiceNow back after {(back - start).TotalMinutes:F0} min (virtual, {wall.Elapsed.TotalSeconds:F0} s of wall time); " +
            $"{stage.ServiceNow.Counters.Dropped} connections dropped, {during.Sum(q => q.Depth + q.InFlight + q.Scheduled)} messages waiting");
        var outcome = await world.SettleAsync(burst.Touched);
        return new ScenarioResult
        {
            Scenario = Name,
            Events = burst.Made,
            Lost = outcome.Final.OutOfStep,
            Duplicated = outcome.Final.Duplicated(burst.Made),
            DeadLettered = outcome.Health?.DeadLettered ?? -1,
            Recovery = outcome.Settled ? clock.GetUtcNow() - back : null,
            RecoveryMeaning = "ServiceNow back → all in ServiceNow, virtual time: the reschedule backoff (30 s doubling to 30 min)",
            Wall = wall.Elapsed,
            VirtualTime = clock.Ahead,
            Settled = outcome.Settled,
            Notes = $"{stage.ServiceNow.Counters.Dropped} ServiceNow connections dropped; {during.Sum(q => q.Depth + q.InFlight + q.Scheduled)} messages waiting at the hour's end, " +
                $"{during.Sum(q => q.DeadLettered)} dead-lettered; {outcome.Final.UserInserts} inserts, {outcome.Final.UserWrites} writes",
        };
    }
}
