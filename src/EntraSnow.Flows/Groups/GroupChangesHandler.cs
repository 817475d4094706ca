using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Retention;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// The <c>group-changes</c> consumer. A group notification asks for a groups delta run; runs are serialised under
/// one session key so two never apply the same change at once (ServiceNow has no unique key to stop a double
/// membership). A run goes page by page: each group in scope is mirrored (<see cref="GroupMembershipMirror"/>) with a
/// change record per membership change (<see cref="MembershipChangeRecorder"/>), then where the run stands is saved
/// (<see cref="GroupDeltaProgress"/>); a full run notes its groups and their members and, once every page is read,
/// compares them with ServiceNow a chunk at a time (<see cref="GroupsReadInFull"/>), in queued steps. The new delta link
/// is stored when all of that is done.
/// </summary>
internal sealed partial class GroupChangesHandler(
    IDirectory directory,
    IServiceNowTable serviceNow,
    IServiceNowReferences references,
    IMessageQueue queue,
    ICheckpointStore checkpoints,
    IProvisioningLog log,
    FullSyncRunner fullSync,
    GroupMembershipMirror mirror,
    GroupChunkComparison comparison,
    MembershipChangeRecorder changeRecords,
    MembershipLedger ledger,
    ActorFollowUp actorFollowUp,
    IOptions<ProvisioningOptions> options,
    IOptions<GroupChangeOptions> changeOptions,
    TimeProvider clock,
    ILogger<GroupChangesHandler> logger) : IMessageHandler
{
    public const string DeltaLinkKey = "delta:groups";

    /// <summary>Every delta run and single-group sync shares this session key: one at a time.</summary>
    public const string DeltaSessionKey = "groups-delta";

    private static readonly TimeSpan MaxGroupsRecheck = TimeSpan.FromSeconds(30);


    private readonly GroupsReadInFull readInFull = new(checkpoints, new GroupAdoption(options.Value));

    public string Queue => QueueNames.GroupChanges;

    public async Task HandleAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var syncRun = message.Property(ProvisioningMessageProperties.SyncRun);
        if (!options.Value.ProvisionGroups)
        {
            if (syncRun is not null && message.Kind == MessageKinds.GroupDeltaResync && await AwaitUsersAsync(message, syncRun, cancellationToken))
            {
                await fullSync.CompleteAsync(syncRun, cancellationToken);
            }

            return;
        }

        try
        {
            switch (message.Kind)
            {
                case MessageKinds.GroupUpdated or MessageKinds.GroupDeleted:
                    await RequestDeltaRunAsync(message, cancellationToken);
                    break;
                case MessageKinds.GroupDeltaResync:
                    await RunDeltaAsync(message, cancellationToken);
                    break;
                case MessageKinds.GroupSync:
                    await SyncOneGroupAsync(message, cancellationToken);
                    break;
                case MessageKinds.GroupActorFollowUp:
                    await actorFollowUp.HandleAsync(message, cancellationToken);
                    break;
                default:
                    throw new PermanentFailureException($"The group-changes queue does not handle '{message.Kind}' messages.");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException && FailureTranslation.Translate(ex) is { } translated)
        {
            if (translated is PermanentFailureException)
            {
                await TryAppendAsync(message, message.SubjectId, ProvisioningAction.Failed, [], translated.Message, null, cancellationToken);
            }

            if (ReferenceEquals(translated, ex))
            {
                throw;
            }

            throw translated;
        }
    }

    private Task RequestDeltaRunAsync(ChangeMessage message, CancellationToken cancellationToken) =>
        queue.SendAsync(QueueNames.GroupChanges,
        [
            message with
            {
                MessageId = $"group.delta-resync:{message.MessageId}",
                SessionKey = DeltaSessionKey,
                Kind = MessageKinds.GroupDeltaResync,
                Attempt = 0,
            },
        ], cancellationToken);

    /// <summary>
    /// A full sync's groups run goes once the run's users are written, so memberships find their sys_user; until then it
    /// puts itself back on the queue. False when it did.
    /// </summary>
    private async Task<bool> AwaitUsersAsync(ChangeMessage message, string syncRun, CancellationToken cancellationToken)
    {
        if (await fullSync.UsersSettledAsync(syncRun, cancellationToken))
        {
            return true;
        }

        var waits = int.TryParse(message.Property(ProvisioningMessageProperties.SyncWaits), CultureInfo.InvariantCulture, out var n) ? n + 1 : 1;
        var baseId = message.MessageId.Split("~wait", 2)[0];
        var again = message with
        {
            MessageId = $"{baseId}~wait{waits}",
            Attempt = 0,
            Properties = new Dictionary<string, string>(message.Properties) { [ProvisioningMessageProperties.SyncWaits] = waits.ToString(CultureInfo.InvariantCulture) },
        };
        // The wait grows (1 s, 2 s, 4 s … at most 30 s): a users phase of an hour costs a few hundred looks, not thousands.
        var delay = TimeSpan.FromTicks(Math.Max(fullSync.GroupsRecheckDelay.Ticks,
            Math.Min(fullSync.GroupsRecheckDelay.Ticks * (1L << Math.Min(waits - 1, 20)), MaxGroupsRecheck.Ticks)));
        await queue.ScheduleAsync(QueueNames.GroupChanges, again, clock.GetUtcNow() + delay, cancellationToken);
        return false;
    }

    private async Task RunDeltaAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var syncRun = message.Property(ProvisioningMessageProperties.SyncRun);
        var step = message.Property(ProvisioningMessageProperties.GroupRunOf);
        if (syncRun is not null && step is null && !await AwaitUsersAsync(message, syncRun, cancellationToken))
        {
            return;
        }

        if ((step is null ? await StartOrResumeAsync(message, cancellationToken) : await StepOfAsync(step, cancellationToken)) is not { } progress)
        {
            return;
        }

        if (!progress.Finished)
        {
            // Page by page: each page's work is written, then where the run stands, so a run cut off goes on from the
            // page after the last one saved and nothing but the page in hand is held. A full run goes on in the next
            // step (message) every few pages.
            var pages = 0;
            await foreach (var page in directory.GetGroupsDeltaAsync(progress.ReadFrom, cancellationToken))
            {
                if (page.IsFullResync && !progress.Full)
                {
                    progress = progress with { Full = true, Baseline = await IsBaselineAsync(cancellationToken) };
                }

                var followUp = new FollowUps();
                var recorded = new RecordingRun(progress.RunKey, progress.PageKey, progress.Recorded);
                await ApplyPageAsync(message, page.Items, progress, recorded, followUp, cancellationToken);
                await QueueFollowUpsAsync(followUp, message, cancellationToken);
                progress = progress with
                {
                    Recorded = recorded.Snapshot(),
                    ReadFrom = page.NextLink,
                    Pages = progress.Pages + 1,
                    Groups = progress.Groups + page.Items.Count,
                    DeltaLink = page.DeltaLink,
                    Finished = page.NextLink is null,
                };
                await progress.SaveAsync(checkpoints, cancellationToken);
                if (progress.Full && !progress.Finished && ++pages == PagesPerStep)
                {
                    await NextStepAsync(message, progress, cancellationToken);
                    return;
                }
            }
        }

        if (progress.Full && !await SettleAsync(message, progress, cancellationToken))
        {
            return;
        }

        if (progress.Baseline)
        {
            await ledger.SetBaselineAsync(clock.GetUtcNow(), cancellationToken);
        }

        if (progress.DeltaLink is not null)
        {
            await checkpoints.SetAsync(DeltaLinkKey, progress.DeltaLink, cancellationToken);
        }

        await changeRecords.ForgetRunAsync(progress.RunKey, cancellationToken);
        await GroupDeltaProgress.ForgetAsync(checkpoints, cancellationToken);
        if (syncRun is { Length: > 0 })
        {
            await checkpoints.SetAsync(FullSyncRunner.GroupsDoneKey(syncRun), progress.Groups.ToString(CultureInfo.InvariantCulture), cancellationToken);
            await fullSync.CompleteAsync(syncRun, cancellationToken);
        }
    }

    /// <summary>The unfinished run, or a new one: a from-scratch message starts its own unless it is the one that started the saved run.</summary>
    private async Task<GroupDeltaProgress> StartOrResumeAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var fromScratch = message.Property(ProvisioningMessageProperties.FromScratch) == "true";
        var saved = await GroupDeltaProgress.LoadAsync(checkpoints, cancellationToken);
        if (saved is not null && (!fromScratch || saved.StartedBy == message.MessageId))
        {
            logger.LogInformation("The groups delta run {RunKey} goes on after page {Pages}", saved.RunKey, saved.Pages);
            return saved;
        }

        var link = fromScratch ? null : await checkpoints.GetAsync(DeltaLinkKey, cancellationToken);
        return new GroupDeltaProgress(link, Full: link is null, Baseline: link is null && await IsBaselineAsync(cancellationToken),
            RunKey: link ?? message.MessageId, StartedBy: message.MessageId);
    }

    /// <summary>
    /// One page. Read in full, a group is only noted (settled once every page is read); read incrementally, each group's
    /// changes on the page are written, a few groups at a time, and a group ServiceNow refuses goes on as its own message
    /// instead of holding back the others and every later delta.
    /// </summary>
    private async Task ApplyPageAsync(ChangeMessage message, IReadOnlyList<DirectoryGroup> items, GroupDeltaProgress progress, RecordingRun recorded, FollowUps followUp,
        CancellationToken cancellationToken)
    {
        var changes = new Dictionary<string, GroupChange>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in items)
        {
            if (progress.Full && group.Removed is null && InScope(group.Id))
            {
                await readInFull.NoteAsync(group, progress.Pages, cancellationToken);
                continue;
            }

            if (!changes.TryGetValue(group.Id, out var change))
            {
                changes[group.Id] = change = new GroupChange(group);
            }

            change.Merge(group);
        }

        mirror.MarkSharedMatches(changes.Values);
        var index = new SysUserIndex(serviceNow, references, options.Value.ObjectIdField);
        await Parallel.ForEachAsync(changes.Values,
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.GroupParallelism, CancellationToken = cancellationToken },
            async (change, token) => await ApplyOrSplitOffAsync(message, change, progress.Full, progress.Baseline, recorded, index, followUp, readMembers: false, token));
    }

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

    /// <summary>Whether a full reading only sets where memberships stand: nothing was recorded before, and initial memberships are not wanted as changes.</summary>
    private async Task<bool> IsBaselineAsync(CancellationToken cancellationToken) =>
        !changeOptions.Value.RecordInitialMemberships && !await ledger.HasBaselineAsync(cancellationToken);

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

    private async Task QueueFollowUpsAsync(FollowUps followUps, ChangeMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var round = int.TryParse(message.Property(ProvisioningMessageProperties.FollowUp), out var n) ? n : 0;
        if (followUps.MissingUsers.Count == 0 || round >= settings.FollowUpAttempts)
        {
            return;
        }

        // A full sync has queued every user already, and a follow-up round asked once: asking again would only
        // dead-letter a user that cannot be provisioned once more.
        var now = clock.GetUtcNow();
        if (round == 0 && message.Property(ProvisioningMessageProperties.SyncRun) is null)
        {
            var users = followUps.MissingUsers.Select(id => new ChangeMessage
            {
                MessageId = $"user.sync:{message.CorrelationId}:{id}",
                SessionKey = id,
                Kind = MessageKinds.UserSync,
                TenantId = message.TenantId,
                SubjectId = id,
                ChangedAt = now,
                CorrelationId = message.CorrelationId,
            }).ToList();
            foreach (var chunk in users.Chunk(100))
            {
                await queue.SendAsync(QueueNames.UserChanges, chunk, cancellationToken);
            }
        }

        var nextRound = (round + 1).ToString(CultureInfo.InvariantCulture);
        foreach (var groupId in followUps.Groups)
        {
            var next = new ChangeMessage
            {
                MessageId = $"group.sync:{groupId}:{message.CorrelationId}:{nextRound}",
                SessionKey = DeltaSessionKey,
                Kind = MessageKinds.GroupSync,
                TenantId = message.TenantId,
                SubjectId = groupId,
                ChangedAt = now,
                CorrelationId = message.CorrelationId,
                Properties = new Dictionary<string, string> { [ProvisioningMessageProperties.FollowUp] = nextRound },
            };
            await queue.ScheduleAsync(QueueNames.GroupChanges, next, now + settings.FollowUpDelay * Math.Pow(2, round), cancellationToken);
        }

        logger.LogInformation("{Users} members not provisioned yet; {Groups} groups will be looked at again", followUps.MissingUsers.Count, followUps.Groups.Count);
    }

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
