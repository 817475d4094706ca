using EntraSnow.Connectors.ServiceNow;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>
/// Resolves the review group once the host has started (the local host may serve ServiceNow itself), and stops the host
/// with a message naming the setting when ServiceNow has no such group. ServiceNow being unreachable is not a setting
/// problem: the first sweep resolves it then.
/// </summary>
internal sealed class AssignmentGroupCheck(
    ReviewAssignmentGroup group,
    IOptions<InactiveSweepOptions> options,
    IServiceProvider services,
    ILogger<AssignmentGroupCheck> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Resolved here rather than injected: compositions built without a host (tests, tools) still validate.
        if (!options.Value.Enabled || services.GetService(typeof(IHostApplicationLifetime)) is not IHostApplicationLifetime lifetime)
        {
            return;
        }

        try
        {
            await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).ContinueWith(_ => { }, TaskScheduler.Default);
            stoppingToken.ThrowIfCancellationRequested();
            await group.SysIdAsync(stoppingToken);
        }
        catch (MissingAssignmentGroupException ex)
        {
            logger.LogCritical("{Problem} The host stops: fix the setting and start it again.", ex.Message);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
        catch (ServiceNowException ex)
        {
            logger.LogWarning("Could not check InactiveSweep:AssignmentGroup now ({Reason}); the first sweep checks it", ex.Message);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
