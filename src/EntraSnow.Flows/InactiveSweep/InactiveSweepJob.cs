using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>The sweep's timer: <see cref="InactiveSweepOptions.Schedule"/> in both hosts; does nothing unless enabled.</summary>
internal sealed class InactiveSweepJob(InactiveSweepRunner runner, IOptions<InactiveSweepOptions> options, ILogger<InactiveSweepJob> logger) : IScheduledJob
{
    public string Name => JobNames.InactiveSweep;

    public TimeSpan Interval => TimeSpan.FromDays(1);

    public CronSchedule? Schedule => CronSchedule.Parse(options.Value.Schedule);

    public bool RunOnStart => false;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            logger.LogInformation("InactiveSweep:Enabled is false: no sweep");
            return;
        }

        await runner.RunAsync(cancellationToken: cancellationToken);
    }
}
