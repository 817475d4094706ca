namespace EntraSnow.Prove.Rig;

/// <summary>
/// Waits until the local host has caught up: no message waiting, in flight or scheduled, Graph has nothing left to
/// retry, and every touched user in ServiceNow shows Graph's state. Gives up when nothing moves for the stall limit.
/// </summary>
internal static class Settling
{
    public sealed record Outcome(bool Settled, Reconciliation Final, HostHealth? Health);

    /// <param name="between">Runs between checks (a virtual clock's step).</param>
    public static Task<Outcome> WaitAsync(Stage stage, HttpClient host, IReadOnlyCollection<string> touched, TimeSpan stall, Func<Task>? between = null) =>
        WaitAsync(stage, () => HostHealth.ReadAsync(host), touched, stall, between);

    /// <param name="readHealth">The host's queues and pauses (an in-process host's without /api/health's live probes).</param>
    public static async Task<Outcome> WaitAsync(Stage stage, Func<Task<HostHealth?>> readHealth, IReadOnlyCollection<string> touched, TimeSpan stall, Func<Task>? between = null)
    {
        HostHealth? health = null;
        var graph = stage.Graph.Emulator;
        var settled = await Converge.UntilSettledAsync(
            async () =>
            {
                // Graph retries what the host did not acknowledge (it was down); here at each check, sooner than Graph's minutes.
                if (graph.UndeliveredCount > 0)
                {
                    await graph.RetryUndeliveredAsync();
                }

                health = await readHealth();
                return health is { Outstanding: 0 } && graph.UndeliveredCount == 0 && Reconciliation.Of(stage, touched).OutOfStep == 0;
            },
            () => Task.FromResult((long)HashCode.Combine(stage.ServiceNow.Counters.Reads(), stage.ServiceNow.Counters.Writes(), health?.Outstanding, stage.ServiceNow.Counters.RateLimited, stage.Graph.Faults.Pending)),
            stall,
            between);
        return new Outcome(settled, Reconciliation.Of(stage, touched), health ?? await readHealth());
    }
}
