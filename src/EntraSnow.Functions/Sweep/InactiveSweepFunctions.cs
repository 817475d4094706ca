using EntraSnow.Flows.Scheduling;
using Microsoft.Azure.Functions.Worker;

namespace EntraSnow.Functions.Sweep;

/// <summary>The inactive-account sweep's timer, on the schedule the InactiveSweep:Schedule app setting holds (default daily 03:00 UTC).</summary>
internal sealed class InactiveSweepFunctions(IEnumerable<IScheduledJob> jobs)
{
    public const string Schedule = "%InactiveSweep:Schedule%";

    [Function("InactiveSweep")]
    public Task InactiveSweep([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        jobs.Single(j => j.Name == JobNames.InactiveSweep).RunAsync(cancellationToken);
}
