using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Risk;

/// <summary>
/// Resolves <c>Risk:Incident:AssignmentGroup</c> once the host's services have started (the local host's sandbox
/// ServiceNow is served by the host itself, so not before) and fails the start, naming the setting, when ServiceNow has
/// no such group: an analyst's queue that does not exist is a setting to fix, not something to find out from the first
/// dead-lettered detection. A ServiceNow that does not answer in time does not stop the host: the first incident
/// resolves the group then. Not checked while <c>Risk:Enabled</c> is false.
/// </summary>
internal sealed class RiskSettingsCheck(RiskAssignmentGroup assignmentGroup, IOptions<RiskOptions> options, ILogger<RiskSettingsCheck> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return; // no poller, no new incidents: the analysts' group is not this deployment's concern
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Patience);
        try
        {
            await assignmentGroup.SysIdAsync(limit.Token);
        }
        catch (RiskAssignmentGroupMissingException ex)
        {
            throw new OptionsValidationException(RiskIncidentOptions.Section, typeof(RiskIncidentOptions), [ex.Message]);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Unreachable, refused credentials (the connector pauses and says so), too slow: not a setting problem.
            logger.LogWarning("{Setting} could not be checked at start-up ({Reason}); the first risk incident resolves it",
                RiskIncidentOptions.Section + ":AssignmentGroup", ex.Message);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
