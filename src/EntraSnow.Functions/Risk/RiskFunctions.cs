using EntraSnow.Flows.Scheduling;
using Microsoft.Azure.Functions.Worker;

namespace EntraSnow.Functions.Risk;

/// <summary>Risk detections: the poller's timer. Its schedule is the <c>Risk:PollSchedule</c> app setting (default every 5 minutes).</summary>
internal sealed class RiskFunctions(IEnumerable<IScheduledJob> jobs)
{
    public const string PollScheduleSetting = "%Risk:PollSchedule%";

    [Function("PollRiskDetections")]
    public Task PollRiskDetections([TimerTrigger(PollScheduleSetting)] TimerInfo timer, CancellationToken cancellationToken) =>
        jobs.RunAsync(JobNames.RiskPoll, cancellationToken);
}
