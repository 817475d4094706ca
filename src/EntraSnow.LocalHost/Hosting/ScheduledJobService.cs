using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>The local counterpart of the Functions app's TimerTrigger functions: each job on its own interval.</summary>
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

        using var timer = new PeriodicTimer(job.Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunOnceAsync(job, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
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
            logger.LogError(ex, "{Job} failed; it runs again in {Interval}", job.Name, job.Interval);
        }
    }
}
