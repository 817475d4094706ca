using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>The local counterpart of the Functions app's TimerTrigger functions: each job on its own CRON schedule or interval.</summary>
internal sealed class ScheduledJobService(
    IEnumerable<IScheduledJob> jobs,
    IOptions<LocalHostOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<ScheduledJobService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunTimers)
        {
            logger.LogWarning("LocalHost:RunTimers is false: no scheduled job runs");
            return Task.CompletedTask;
        }

        return Task.WhenAll(jobs.Select(job => Task.Run(() => RunJobAsync(job, stoppingToken), stoppingToken)));
    }

    private async Task RunJobAsync(IScheduledJob job, CancellationToken stoppingToken)
    {
        // Jobs may need this process's own endpoints (Graph validates the notification URL when subscribing).
        await SandboxFirstRun.WaitForStartAsync(lifetime, stoppingToken);
        if (job.RunOnStart)
        {
            await RunOnceAsync(job, stoppingToken);
        }

        try
        {
            if (job.Schedule is { } schedule)
            {
                await RunOnScheduleAsync(job, schedule, stoppingToken);
                return;
            }

            using var timer = new PeriodicTimer(job.Interval, clock);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunOnceAsync(job, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Runs at each CRON occurrence; an occurrence missed while a run was still going is skipped, as the TimerTrigger does.</summary>
    private async Task RunOnScheduleAsync(IScheduledJob job, CronSchedule schedule, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            if (schedule.NextAfter(now) is not { } next)
            {
                logger.LogWarning("{Job}'s schedule '{Schedule}' has no future occurrence; it will not run again", job.Name, schedule);
                return;
            }

            logger.LogDebug("{Job} runs next at {Next:u}", job.Name, next);
            await Task.Delay(next - now, clock, stoppingToken);
            await RunOnceAsync(job, stoppingToken);
        }
    }

    private async Task RunOnceAsync(IScheduledJob job, CancellationToken stoppingToken)
    {
        try
        {
            logger.LogInformation("Running {Job}", job.Name);
            await job.RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // A failed run is retried on the next tick; jobs are written to resume.
            logger.LogError(ex, "{Job} failed; it runs again at its next scheduled time", job.Name);
        }
    }
}
