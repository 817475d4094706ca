using EntraSnow.Flows.Scheduling;

namespace EntraSnow.Flows.Risk;

/// <summary>"risk-poll": queues the risk detections Identity Protection reports, on the <see cref="RiskOptions.PollSchedule"/>.</summary>
internal sealed class RiskPollJob(RiskDetectionPoller poller) : IScheduledJob
{
    public string Name => JobNames.RiskPoll;

    public TimeSpan Interval => TimeSpan.FromMinutes(5);

    public bool RunOnStart => false;

    public Task RunAsync(CancellationToken cancellationToken) => poller.RunAsync(cancellationToken);
}
