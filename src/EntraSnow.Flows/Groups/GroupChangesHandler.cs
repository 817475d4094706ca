using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
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
/// is stored when all of that is done. This file has the run itself; the other parts: a full run's steps (FullReading),
/// one group written (OneGroup), follow-ups for members not provisioned yet (FollowUps), the provisioning log (ProvisioningLog).
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
                    // An expired link read again: a new full read, which settles only what it reads itself.
                    await ForgetAbandonedReadAsync(cancellationToken);
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
        // A run read from scratch is known by its message and when it began: the same message replayed after its run was
        // finished by another is a new run, whose summary records are its own (never the old run's, found by correlation id).
        var progress = new GroupDeltaProgress(link, Full: link is null, Baseline: link is null && await IsBaselineAsync(cancellationToken),
            RunKey: link ?? $"{message.MessageId}@{clock.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}", StartedBy: message.MessageId);
        if (progress.Full)
        {
            await ForgetAbandonedReadAsync(cancellationToken);
        }

        return progress;
    }

    /// <summary>A new full read starts: the notes an abandoned one left (<see cref="GroupsReadInFull.ForgetAbandonedAsync"/>) go first.</summary>
    private async Task ForgetAbandonedReadAsync(CancellationToken cancellationToken)
    {
        if (await readInFull.ForgetAbandonedAsync(cancellationToken) is > 0 and var forgotten)
        {
            logger.LogInformation("A new full groups read starts: {Count} notes of an abandoned one were forgotten", forgotten);
        }
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

    /// <summary>Whether a full reading only sets where memberships stand: nothing was recorded before, and initial memberships are not wanted as changes.</summary>
    private async Task<bool> IsBaselineAsync(CancellationToken cancellationToken) =>
        !changeOptions.Value.RecordInitialMemberships && !await ledger.HasBaselineAsync(cancellationToken);
}
