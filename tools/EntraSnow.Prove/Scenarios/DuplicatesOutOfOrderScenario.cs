using System.Diagnostics;
using EntraSnow.Prove.Rig;

namespace EntraSnow.Prove.Scenarios;

/// <summary>
/// Every notification of a burst is delivered again, shuffled (the same sequenceNumbers, older ones after newer): once
/// at once, inside the intake's dedupe window, and once more after it (11 minutes later, virtual time), when the
/// repeats are queued as new work and the consumers meet them out of order. Each change lands once; repeats write nothing.
/// </summary>
internal sealed class DuplicatesOutOfOrderScenario : IScenario
{
    public string Name => "duplicates, out of order";

    public string What => "each notification of a burst delivered twice more, shuffled, inside and after the dedupe window; the repeats write nothing";

    public async Task<ScenarioResult> RunAsync(ProofContext context, CancellationToken cancellationToken)
    {
        var scale = context.Scale;
        await using var world = await VirtualWorld.StartAsync(context, "duplicates-out-of-order", scale.FaultUsers, cancellationToken: cancellationToken);
        var (clock, stage, host) = (world.Clock, world.Stage, world.Host);
        var wall = Stopwatch.StartNew();
        var graph = stage.Graph.Emulator;
        var counters = stage.ServiceNow.Counters;
        var burst = new ChangeBurst(stage, "repeat", scale.FaultChanges, scale.FaultUsers);
        await burst.RunAsync(cancellationToken: cancellationToken);
        var first = await world.SettleAsync(burst.Touched, stepTime: false);
        var (writesBefore, readsBefore) = (counters.Writes(), counters.Reads());

        // Inside the dedupe window: the intake recognises each repeat by its sequenceNumber.
        var inside = await graph.DeliverAgainAsync(burst.Made, seed: 14, cancellationToken);
        var afterInside = await world.SettleAsync(burst.Touched, stepTime: false);
        var readsInside = counters.Reads() - readsBefore;

        // After it: queued again as new work, met by the consumers in shuffled order.
        clock.Advance(TimeSpan.FromMinutes(11));
        var after = await graph.DeliverAgainAsync(burst.Made, seed: 41, cancellationToken);
        var outcome = await world.SettleAsync(burst.Touched, stepTime: false);
        var writesByRepeats = counters.Writes() - writesBefore;
        var readsAfter = counters.Reads() - readsBefore - readsInside;
        var acknowledged = inside.Concat(after).Count(d => d.StatusCode is >= 200 and < 300);
        return new ScenarioResult
        {
            Scenario = Name,
            Events = burst.Made + inside.Count + after.Count,
            Lost = outcome.Final.OutOfStep,
            Duplicated = (int)Math.Max(outcome.Final.Duplicated(burst.Made), outcome.Final.DuplicateRecords + writesByRepeats),
            DeadLettered = outcome.Health?.DeadLettered ?? -1,
            Wall = wall.Elapsed,
            VirtualTime = clock.Ahead,
            Settled = first.Settled && afterInside.Settled && outcome.Settled,
            Notes = $"{burst.Made} changes, then {inside.Count} repeats inside the dedupe window and {after.Count} after it ({acknowledged} acknowledged); " +
                $"the repeats made {writesByRepeats} ServiceNow writes, {readsInside} reads inside the window and {readsAfter} after it",
        };
    }
}
