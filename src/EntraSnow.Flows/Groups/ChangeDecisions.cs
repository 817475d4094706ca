using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ServiceNowWebhooks;
using Microsoft.Extensions.Logging;
using EntraSnow.Connectors.Graph;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// Carries out ServiceNow's decision on a change EntraSnow opened in Authorize for a member added to a sensitive group
/// under <c>remove-until-approved</c> (the member was taken out at once). The change is read back and its approval,
/// as ServiceNow has it, decides: approved puts the member back through <see cref="MembershipFulfilment"/> (so the
/// re-add is recorded as EntraSnow's, for this change, and not removed again) and closes the change; rejected leaves
/// the member out and cancels the change with the approver's reason. A closed change is left alone, so a redelivered
/// decision does nothing twice.
/// </summary>
internal sealed class ChangeDecisions(
    IServiceNowTable serviceNow,
    MembershipFulfilment fulfilment,
    SensitiveGroupPolicy sensitiveGroups,
    ILogger<ChangeDecisions> logger)
{
    // ServiceNow's change states: Closed and Canceled end a change.
    public const string ClosedState = "3";
    public const string CanceledState = "4";

    private static readonly string[] Fields = ["sys_id", "number", "state", "approval", "correlation_id"];

    public async Task ApplyAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await DecideAsync(message, cancellationToken);
        }
        catch (Exception ex) when (FailureTranslation.Translate(ex) is { } translated && translated != ex)
        {
            throw translated;
        }
    }

    private async Task DecideAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var change = await serviceNow.GetAsync(MembershipChangeRecorder.Table, message.SubjectId, Fields, cancellationToken)
            ?? throw new PermanentFailureException($"Change {message.Property(ServiceNowWebhookIntake.Properties.Number)} ({message.SubjectId}) does not exist in ServiceNow.");
        var number = change["number"] ?? string.Empty;
        if (number != message.Property(ServiceNowWebhookIntake.Properties.Number))
        {
            throw new PermanentFailureException($"The decision named change {message.Property(ServiceNowWebhookIntake.Properties.Number)}, but this change is {number}.");
        }

        if (AddedMember(change["correlation_id"]) is not var (groupId, memberId))
        {
            logger.LogInformation("Change {Number} is not a member added to a sensitive group: its decision asks nothing of EntraSnow {CorrelationId}", number, message.CorrelationId);
            return;
        }

        if (change["state"] is ClosedState or CanceledState)
        {
            logger.LogInformation("Change {Number} is already closed {CorrelationId}", number, message.CorrelationId);
            return;
        }

        if (await sensitiveGroups.PolicyOfAsync(new DirectoryGroup { Id = groupId }, cancellationToken) != SensitiveGroupPolicies.RemoveUntilApproved)
        {
            // The member was never taken out (or the policy changed since): approving or rejecting it moves nobody.
            logger.LogWarning("Change {Number}: group {GroupId} is not under remove-until-approved; the decision changes no membership {CorrelationId}",
                number, groupId, message.CorrelationId);
            return;
        }

        switch (change["approval"])
        {
            case ChangeDecision.Approved:
                await fulfilment.AddAsync(groupId, memberId, number, cancellationToken);
                await CloseAsync(change, ClosedState, "successful",
                    $"EntraSnow put member {memberId} back in the Entra ID group {groupId}: the change was approved.", cancellationToken);
                break;
            case ChangeDecision.Rejected:
                var reason = await RejectionReasonAsync(change.SysId, cancellationToken);
                await CloseAsync(change, CanceledState, "unsuccessful",
                    $"The change was rejected{(reason is null ? string.Empty : $": {reason}")}. Member {memberId} stays out of the Entra ID group {groupId}.", cancellationToken);
                break;
            default:
                logger.LogInformation("Change {Number} is still {Approval}: nothing to do yet {CorrelationId}", number, change["approval"], message.CorrelationId);
                return;
        }

        logger.LogInformation("Change {Number} {Approval}: member {MemberId} of group {GroupId} handled {CorrelationId}", number, change["approval"], memberId, groupId, message.CorrelationId);
    }

    private Task<ServiceNowRecord> CloseAsync(ServiceNowRecord change, string state, string closeCode, string note, CancellationToken cancellationToken) =>
        serviceNow.UpdateAsync(MembershipChangeRecorder.Table, change.SysId, new Dictionary<string, string?>
        {
            ["state"] = state,
            ["close_code"] = closeCode,
            ["close_notes"] = note,
            ["work_notes"] = note,
        }, cancellationToken);

    /// <summary>The comments of the approver who rejected it (sysapproval_approver, its comments journal); null when none were written.</summary>
    private async Task<string?> RejectionReasonAsync(string changeSysId, CancellationToken cancellationToken)
    {
        var approver = await serviceNow.FindAsync("sysapproval_approver", EncodedQuery.Where("sysapproval", changeSysId).And("state", ChangeDecision.Rejected), ["sys_id"], cancellationToken);
        if (approver is null)
        {
            return null;
        }

        var comment = await serviceNow.FindAsync("sys_journal_field",
            EncodedQuery.Where("name", "sysapproval_approver").And("element_id", approver.SysId).And("element", "comments"), ["value"], cancellationToken);
        return comment?["value"] is { Length: > 0 } text ? text.Trim() : null;
    }

    /// <summary>The group and member of a change EntraSnow recorded for an addition (<c>entra-group:{group}:{member}:added:{n}</c>).</summary>
    internal static (string GroupId, string MemberId)? AddedMember(string? correlationId) =>
        correlationId is { } id && id.StartsWith(MembershipChangeRecorder.CorrelationPrefix, StringComparison.Ordinal)
        && id[MembershipChangeRecorder.CorrelationPrefix.Length..].Split(':') is [var group, var member, "added", _]
        && Guid.TryParse(group, out _) && Guid.TryParse(member, out _)
            ? (group, member)
            : null;
}
