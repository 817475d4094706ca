using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Risk;

/// <summary>
/// "risk-poll": queues the risk detections Identity Protection reports, on the <see cref="RiskOptions.PollSchedule"/>;
/// does nothing while <see cref="RiskOptions.Enabled"/> is false.
/// </summary>
internal sealed class RiskPollJob(RiskDetectionPoller poller, IOptions<RiskOptions> options, ILogger<RiskPollJob> logger) : IScheduledJob
{
    private int _saidOff;

    public string Name => JobNames.RiskPoll;

    /// <summary>Unused: the job runs on its <see cref="Schedule"/>.</summary>
    public TimeSpan Interval => TimeSpan.FromMinutes(5);

    public CronSchedule Schedule => CronSchedule.Parse(options.Value.PollSchedule);

    public bool RunOnStart => false;

    public Task RunAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            // Once per process, not every five minutes: the switch does not change while the host runs.
            if (Interlocked.Exchange(ref _saidOff, 1) == 0)
            {
                logger.LogInformation("Risk:Enabled is false: risk detections are not polled and no risk incident is opened for new ones");
            }

            return Task.CompletedTask;
        }

        return poller.RunAsync(cancellationToken);
    }
}
