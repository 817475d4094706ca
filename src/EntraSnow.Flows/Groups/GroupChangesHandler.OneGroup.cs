using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Retention;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// One group written: read in full on its own (a follow-up, a group split off a run) or as part of a run, mirrored with its
/// change records, or deactivated when deleted or out of scope; a group ServiceNow refuses goes on as its own message.
/// </summary>
internal sealed partial class GroupChangesHandler
{
    /// <summary>
    /// One group read in full: a follow-up for members whose users were not provisioned yet, or a group split off a
    /// delta run (its removals travel with the message: a full read cannot see them).
    /// </summary>
    private async Task SyncOneGroupAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var group = await directory.GetGroupAsync(message.SubjectId, cancellationToken);
        var change = new GroupChange(group ?? new DirectoryGroup { Id = message.SubjectId, Removed = RemovedReason.Deleted });
        change.Merge(group is null ? change.Group : group with
        {
            MembersRemoved = GroupSplitOff.Ids(message, GroupSplitOff.RemovedMembers),
            NestedGroupsRemoved = GroupSplitOff.Ids(message, GroupSplitOff.RemovedGroups),
        });
        if (group is not null)
        {
            await ReadMembersAsync(change, cancellationToken);
        }

        var followUp = new FollowUps();
        var index = new SysUserIndex(serviceNow, references, options.Value.ObjectIdField);
        var baseline = message.Property(GroupSplitOff.Baseline) is { } carried ? carried == "true" : await IsBaselineAsync(cancellationToken);
        await ApplyAsync(message, change, full: true, baseline, new RecordingRun(message.MessageId, message.MessageId), index, followUp, cancellationToken);
        await QueueFollowUpsAsync(followUp, message, cancellationToken);
        await changeRecords.ForgetRunAsync(message.MessageId, cancellationToken);
    }

    /// <summary>Every member Graph lists for the group now, users and nested groups, as additions to <paramref name="change"/>.</summary>
    private async Task ReadMembersAsync(GroupChange change, CancellationToken cancellationToken)
    {
        var members = await directory.GetGroupMembersAsync(change.Group.Id, cancellationToken);
        change.Merge(change.Group with { MembersAdded = members.UserIds, NestedGroupsAdded = members.GroupIds, MembersRemoved = [], NestedGroupsRemoved = [] });
    }

    /// <summary>
    /// Writes one group of a delta run (with <paramref name="readMembers"/>, its members read in full first); a group
    /// ServiceNow (or Graph) refuses (403, bad data, gone) is queued as its own message.
    /// </summary>
    /// <param name="unchangedSysId">The group's record when a full run's comparison found it and its rows as Entra has them: nothing to write.</param>
    private async Task ApplyOrSplitOffAsync(ChangeMessage message, GroupChange change, bool full, bool baseline, RecordingRun recorded, SysUserIndex index,
        FollowUps followUp, bool readMembers, CancellationToken cancellationToken, string? unchangedSysId = null)
    {
        try
        {
            if (readMembers)
            {
                await ReadMembersAsync(change, cancellationToken);
            }

            await ApplyAsync(message, change, full, baseline, recorded, index, followUp, cancellationToken, unchangedSysId);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && FailureTranslation.Translate(ex) is PermanentFailureException refused)
        {
            logger.LogWarning("Group {GroupId} could not be written ({Reason}); it is retried on its own and the run goes on", change.Group.Id, refused.Message);
            await queue.SendAsync(QueueNames.GroupChanges, [GroupSplitOff.Message(message, change, baseline, DeltaSessionKey, clock.GetUtcNow())], cancellationToken);
        }
    }

    private async Task ApplyAsync(ChangeMessage message, GroupChange change, bool full, bool baseline, RecordingRun recorded, SysUserIndex index, FollowUps followUp,
        CancellationToken cancellationToken, string? unchangedSysId = null)
    {
        var group = change.Group;
        var inScope = InScope(group.Id);
        if (group.Removed is not null || !inScope)
        {
            var why = group.Removed is not null ? "deleted in Entra ID" : "out of scope: not a configured group";
            if (group.Removed is not null)
            {
                await DeletedObjects.RecordAsync(checkpoints, DeletedObjects.Group, group.Id, clock.GetUtcNow(), cancellationToken);
            }

            var gone = await mirror.DeactivateAsync(group.Id, why, cancellationToken);
            await AppendAsync(message, group.Id, gone.Action, gone.Changed, gone.Reason, gone.SysId, cancellationToken);
            return;
        }

        if (full)
        {
            // A full reading lists every member: whoever the ledger still has in the group left it unseen.
            await changeRecords.AddMembersGoneAsync(change, cancellationToken);
        }

        GroupOutcome outcome;
        if (unchangedSysId is not null)
        {
            // The comparison found the record and its rows as Entra has them: only the change records are looked at.
            outcome = new GroupOutcome(ProvisioningAction.Unchanged, [], null, unchangedSysId);
        }
        else
        {
            await index.PrefetchAsync(change.Added.Concat(change.Removed), cancellationToken);
            outcome = await mirror.MirrorAsync(change, full, index, followUp, cancellationToken);
        }

        var records = await changeRecords.RecordAsync(message, change, baseline, recorded, index, cancellationToken);
        var reason = records == 0 ? outcome.Reason : string.Join("; ", new[] { outcome.Reason, $"{records} change records written" }.OfType<string>());
        await AppendAsync(message, group.Id, outcome.Action, outcome.Changed, reason, outcome.SysId, cancellationToken);
    }

    private bool InScope(string groupId) =>
        options.Value.GroupIds.Count == 0 || options.Value.GroupIds.Contains(groupId, StringComparer.OrdinalIgnoreCase);
}
