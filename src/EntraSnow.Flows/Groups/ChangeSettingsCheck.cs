using EntraSnow.Connectors.ServiceNow;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// Resolves <c>GroupChanges:AssignmentGroup</c> once the host's services have started (a sandbox ServiceNow is served
/// by the host itself, so not before) and fails the start, naming the setting, when no sys_user_group has that name.
/// A ServiceNow that does not answer in time does not stop the host: the connector's health says so and the records wait.
/// </summary>
internal sealed class ChangeSettingsCheck(
    ChangeAssignmentGroup assignmentGroup,
    IOptions<GroupChangeOptions> options,
    ILogger<ChangeSettingsCheck> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.RecordChanges || string.IsNullOrEmpty(options.Value.AssignmentGroup))
        {
            return;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Patience);
        try
        {
            await assignmentGroup.SysIdAsync(limit.Token);
        }
        catch (AssignmentGroupMissingException ex)
        {
            throw new OptionsValidationException(GroupChangeOptions.Section, typeof(GroupChangeOptions), [ex.Message]);
        }
        catch (Exception ex) when (ex is ServiceNowException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.LogWarning("GroupChanges:AssignmentGroup could not be checked at start-up: ServiceNow did not answer ({Reason})", ex.Message);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
