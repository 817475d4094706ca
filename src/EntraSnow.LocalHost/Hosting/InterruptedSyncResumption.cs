using EntraSnow.Flows.FullSync;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>At start, finishes queuing a full sync that a crash (kill -9) interrupted while it was queuing users.</summary>
internal sealed class InterruptedSyncResumption(
    FullSyncRunner runner,
    IHostApplicationLifetime lifetime,
    ILogger<InterruptedSyncResumption> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // In sandbox mode the emulators it reads are served by this process: wait until it listens.
        await SandboxFirstRun.WaitForStartAsync(lifetime, stoppingToken);
        try
        {
            if (await runner.ResumeInterruptedAsync(stoppingToken) is { } runId)
            {
                logger.LogInformation("Full sync {RunId}, interrupted while queuing users, is queued again", runId);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The next scheduled full sync resumes it too.
            logger.LogError(ex, "Could not resume the interrupted full sync");
        }
    }
}
