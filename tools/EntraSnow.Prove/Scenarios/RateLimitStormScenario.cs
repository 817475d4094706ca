using System.Diagnostics;
using EntraSnow.Prove.Rig;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Prove.Scenarios;

/// <summary>
/// Graph and ServiceNow both answer 429 with Retry-After to a run of requests in the middle of a burst; the local host
/// (in-process, on the virtual clock) waits as told and nothing is lost, written twice or dead-lettered.
/// </summary>
internal sealed class RateLimitStormScenario : IScenario
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    public string Name => "429 storms, both APIs";

    public string What => "Graph and ServiceNow answer 429 (Retry-After 5 s) to a run of requests during a burst; all lands once, nothing dead-lettered";

    public async Task<ScenarioResult> RunAsync(ProofContext context, CancellationToken cancellationToken)
    {
        var scale = context.Scale;
        await using var world = await VirtualWorld.StartAsync(context, "rate-limit-storm", scale.FaultUsers, cancellationToken: cancellationToken);
        var (clock, stage, host) = (world.Clock, world.Stage, world.Host);
        var wall = Stopwatch.StartNew();
        var storm = scale.FaultChanges;
        var start = clock.GetUtcNow();
        stage.Graph.Faults.Add(new GraphFault { Kind = GraphFaultKind.Throttle, Count = storm, RetryAfter = RetryAfter, PathContains = "users" });
        stage.ServiceNow.Faults.RateLimitNext(storm, RetryAfter);
        var burst = new ChangeBurst(stage, "storm", scale.FaultChanges, scale.FaultUsers);
        await burst.RunAsync(cancellationToken: cancellationToken);
        var time = world.Time;
        var outcome = await world.SettleAsync(burst.Touched);
        var graph429 = storm - stage.Graph.Faults.Pending;
        var serviceNow429 = stage.ServiceNow.Counters.RateLimited;
        return new ScenarioResult
        {
            Scenario = Name,
            Events = burst.Made,
            Lost = outcome.Final.OutOfStep,
            Duplicated = outcome.Final.Duplicated(burst.Made),
            DeadLettered = outcome.Health?.DeadLettered ?? -1,
            Recovery = outcome.Settled ? clock.GetUtcNow() - start : null,
            RecoveryMeaning = "storm begins → all in ServiceNow, virtual time",
            Wall = wall.Elapsed,
            VirtualTime = clock.Ahead,
            Settled = outcome.Settled,
            Notes = $"{graph429} Graph 429s and {serviceNow429} ServiceNow 429s served, each with Retry-After {RetryAfter.TotalSeconds:F0} s; " +
                $"{outcome.Final.UserInserts} inserts, {outcome.Final.UserWrites} writes",
        };
    }
}
