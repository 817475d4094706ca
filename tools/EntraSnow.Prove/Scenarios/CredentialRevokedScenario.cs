using System.Diagnostics;
using EntraSnow.Prove.Rig;

namespace EntraSnow.Prove.Scenarios;

/// <summary>
/// Half-way through a burst both client secrets are revoked (ServiceNow's tokens too); Graph's token runs out within its
/// hour. For 90 minutes of virtual time neither credential works while users keep changing; then both are restored.
/// The local host pauses the connectors instead of dead-lettering, and resumes by itself.
/// </summary>
internal sealed class CredentialRevokedScenario : IScenario
{
    private static readonly TimeSpan Revoked = TimeSpan.FromMinutes(90);

    public string Name => "credentials revoked and restored";

    public string What => "Graph's and ServiceNow's client secrets revoked mid-burst for 90 min (virtual), then restored; paused, nothing dead-lettered";

    public async Task<ScenarioResult> RunAsync(ProofContext context, CancellationToken cancellationToken)
    {
        var scale = context.Scale;
        await using var world = await VirtualWorld.StartAsync(context, "credential-revoked", scale.FaultUsers, cancellationToken: cancellationToken);
        var (clock, stage, host) = (world.Clock, world.Stage, world.Host);
        var wall = Stopwatch.StartNew();
        var time = world.Time;
        var paused = new HashSet<string>(StringComparer.Ordinal);
        var burst = new ChangeBurst(stage, "revoked", scale.FaultChanges, scale.FaultUsers);
        DateTimeOffset revokedAt = default;
        await burst.RunAsync(scale.FaultChanges / 2, () =>
        {
            revokedAt = clock.GetUtcNow();
            stage.Graph.Emulator.Options.ClientSecret = "revoked-" + Guid.NewGuid();
            stage.ServiceNow.Options.ClientSecret = "revoked-" + Guid.NewGuid();
            stage.ServiceNow.Tokens.ExpireAll();
            return Task.CompletedTask;
        }, cancellationToken);
        var end = revokedAt + Revoked;
        while (clock.GetUtcNow() < end)
        {
            await time.PassAsync(TimeSpan.FromMinutes(5) < end - clock.GetUtcNow() ? TimeSpan.FromMinutes(5) : end - clock.GetUtcNow());
            paused.UnionWith(host.Paused);
        }

        var during = await host.Queues.GetStatsAsync(cancellationToken);
        stage.Graph.Emulator.Options.ClientSecret = context.Secrets.GraphClientSecret;
        stage.ServiceNow.Options.ClientSecret = context.Secrets.ServiceNowClientSecret;
        var restored = clock.GetUtcNow();
        context.Say(Name, $"restored after {(restored - revokedAt).TotalMinutes:F0} min (virtual); paused while revoked: {string.Join(", ", paused.Order())}; " +
            $"{during.Sum(q => q.DeadLettered)} dead-lettered, {during.Sum(q => q.Depth + q.InFlight + q.Scheduled)} waiting");
        var outcome = await world.SettleAsync(burst.Touched);
        return new ScenarioResult
        {
            Scenario = Name,
            Events = burst.Made,
            Lost = outcome.Final.OutOfStep,
            Duplicated = outcome.Final.Duplicated(burst.Made),
            DeadLettered = outcome.Health?.DeadLettered ?? -1,
            Recovery = outcome.Settled ? clock.GetUtcNow() - restored : null,
            RecoveryMeaning = "secrets restored → all in ServiceNow, virtual time (paused messages wait Messaging:PausedRetryDelay, 1 min)",
            Wall = wall.Elapsed,
            VirtualTime = clock.Ahead,
            Settled = outcome.Settled && outcome.Health is { Paused.Count: 0 },
            Notes = $"paused while revoked: {(paused.Count == 0 ? "none" : string.Join(", ", paused.Order()))}; {stage.ServiceNow.Counters.Unauthorized} ServiceNow token refusals; " +
                $"{during.Sum(q => q.Depth + q.InFlight + q.Scheduled)} messages waiting at restore, {during.Sum(q => q.DeadLettered)} dead-lettered; health after: {outcome.Health?.Status}; {outcome.Final.UserInserts} inserts, {outcome.Final.UserWrites} writes",
        };
    }
}
