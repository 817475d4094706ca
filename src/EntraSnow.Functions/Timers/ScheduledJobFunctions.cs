using EntraSnow.Flows.Scheduling;
using Microsoft.Azure.Functions.Worker;

namespace EntraSnow.Functions.Timers;

/// <summary>The timers. Each calls one scheduled job by name; the job holds the rule, this only holds the schedule.</summary>
internal sealed class ScheduledJobFunctions(IEnumerable<IScheduledJob> jobs)
{
    /// <summary>Every 6 hours, and at start: subscriptions last at most 41,760 minutes, so this renews well before.</summary>
    public const string SubscriptionUpkeepSchedule = "0 0 */6 * * *";

    /// <summary>Nightly at 02:00 UTC: repairs drift, since Graph sends no missed events for users and groups.</summary>
    public const string FullSyncSchedule = "0 0 2 * * *";

    [Function("SubscriptionUpkeep")]
    public Task SubscriptionUpkeep([TimerTrigger(SubscriptionUpkeepSchedule, RunOnStartup = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(JobNames.SubscriptionUpkeep, cancellationToken);

    [Function("FullSync")]
    public Task FullSync([TimerTrigger(FullSyncSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(JobNames.FullSync, cancellationToken);

    private Task RunAsync(string name, CancellationToken cancellationToken) =>
        (jobs.FirstOrDefault(j => j.Name == name) ?? throw new InvalidOperationException($"No scheduled job named '{name}' is registered."))
            .RunAsync(cancellationToken);
}
