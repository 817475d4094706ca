using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Risk;

/// <summary>"risk-poll": queues the risk detections Identity Protection reports, on the <see cref="RiskOptions.PollSchedule"/>.</summary>
internal sealed class RiskPollJob(RiskDetectionPoller poller, IOptions<RiskOptions> options) : IScheduledJob
{
    public string Name => JobNames.RiskPoll;

    /// <summary>Unused: the job runs on its <see cref="Schedule"/>.</summary>
    public TimeSpan Interval => TimeSpan.FromMinutes(5);

    public CronSchedule Schedule => CronSchedule.Parse(options.Value.PollSchedule);

    public bool RunOnStart => false;

    public Task RunAsync(CancellationToken cancellationToken) => poller.RunAsync(cancellationToken);
}
