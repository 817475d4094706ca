using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.Groups;

/// <summary>What was decided for each group, in the provisioning log and the structured log.</summary>
internal sealed partial class GroupChangesHandler
{
    private async Task TryAppendAsync(ChangeMessage message, string subjectId, ProvisioningAction action, IReadOnlyList<string> changed, string? reason, string? sysId, CancellationToken cancellationToken)
    {
        try
        {
            await AppendAsync(message, subjectId, action, changed, reason, sysId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not record the failure of {SubjectId} in the provisioning log", subjectId);
        }
    }

    private Task AppendAsync(ChangeMessage message, string subjectId, ProvisioningAction action, IReadOnlyList<string> changed, string? reason, string? sysId, CancellationToken cancellationToken)
    {
        logger.LogInformation("Group {SubjectId}: {Action} {ChangedFields} {Reason}", subjectId, action, changed, reason);
        ProvisioningTelemetry.Decided(action, ProvisioningObjectKinds.Group);
        return log.AppendAsync(new ProvisioningLogEntry
        {
            Timestamp = clock.GetUtcNow(),
            CorrelationId = message.CorrelationId,
            MessageId = message.MessageId,
            SubjectId = subjectId,
            ObjectKind = ProvisioningObjectKinds.Group,
            Action = action,
            ChangedFields = changed,
            Reason = reason,
            TargetSysId = sysId,
        }, cancellationToken);
    }
}
