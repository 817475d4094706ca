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
/// membership). A run upserts sys_user_group for groups in scope, adds and removes sys_user_grmember rows,
/// deactivates deleted or out-of-scope groups, and stores the new delta link only once all of that succeeded.
/// </summary>
internal sealed class GroupChangesHandler(
    IDirectory directory,
    IServiceNowTable serviceNow,
    IServiceNowReferences references,
    IMessageQueue queue,
    ICheckpointStore checkpoints,
    IProvisioningLog log,
    FullSyncRunner fullSync,
    IOptions<ProvisioningOptions> options,
    TimeProvider clock,
    ILogger<GroupChangesHandler> logger) : IMessageHandler
{
    internal const string GroupTable = "sys_user_group";
    internal const string MemberTable = "sys_user_grmember";
    public const string DeltaLinkKey = "delta:groups";

    /// <summary>Every delta run and single-group sync shares this session key: one at a time.</summary>
    public const string DeltaSessionKey = "groups-delta";

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
        await queue.ScheduleAsync(QueueNames.GroupChanges, again, clock.GetUtcNow() + fullSync.GroupsRecheckDelay, cancellationToken);
        return false;
    }

    private async Task RunDeltaAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var syncRun = message.Property(ProvisioningMessageProperties.SyncRun);
        if (syncRun is not null && !await AwaitUsersAsync(message, syncRun, cancellationToken))
        {
            return;
        }

        var fromScratch = message.Property(ProvisioningMessageProperties.FromScratch) == "true";
        var link = fromScratch ? null : await checkpoints.GetAsync(DeltaLinkKey, cancellationToken);
        var index = new SysUserIndex(serviceNow, references, options.Value.ObjectIdField);
        var full = link is null;
        if (full)
        {
            await index.LoadAllAsync(cancellationToken);
        }

        // A group's members can be spread over several pages: gather the whole run before reconciling.
        var changes = new Dictionary<string, GroupChange>(StringComparer.OrdinalIgnoreCase);
        string? newLink = null;
        await foreach (var page in directory.GetGroupsDeltaAsync(link, cancellationToken))
        {
            if (page.IsFullResync && !full)
            {
                full = true;
                await index.LoadAllAsync(cancellationToken);
            }

            foreach (var group in page.Items)
            {
                if (!changes.TryGetValue(group.Id, out var change))
                {
                    changes[group.Id] = change = new GroupChange(group);
                }

                change.Merge(group);
            }

            newLink = page.DeltaLink ?? newLink;
        }

        // Groups are independent of each other: their memberships are written a few groups at a time.
        var followUp = new FollowUps();
        await Parallel.ForEachAsync(changes.Values,
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.GroupParallelism, CancellationToken = cancellationToken },
            async (change, token) => await ApplyAsync(message, change, full, index, followUp, token));

        await QueueFollowUpsAsync(followUp, message, cancellationToken);
        if (newLink is not null)
        {
            await checkpoints.SetAsync(DeltaLinkKey, newLink, cancellationToken);
        }

        if (syncRun is { Length: > 0 })
        {
            await checkpoints.SetAsync(FullSyncRunner.GroupsDoneKey(syncRun), changes.Count.ToString(CultureInfo.InvariantCulture), cancellationToken);
            await fullSync.CompleteAsync(syncRun, cancellationToken);
        }
    }

    private async Task SyncOneGroupAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var group = await directory.GetGroupAsync(message.SubjectId, cancellationToken);
        var change = new GroupChange(group ?? new DirectoryGroup { Id = message.SubjectId, Removed = RemovedReason.Deleted });
        if (group is not null)
        {
            change.Merge(group with { MembersAdded = await directory.GetGroupMemberIdsAsync(group.Id, cancellationToken), MembersRemoved = [] });
        }
        else
        {
            change.Merge(change.Group);
        }

        var followUp = new FollowUps();
        await ApplyAsync(message, change, full: true, new SysUserIndex(serviceNow, references, options.Value.ObjectIdField), followUp, cancellationToken);
        await QueueFollowUpsAsync(followUp, message, cancellationToken);
    }

    private async Task ApplyAsync(ChangeMessage message, GroupChange change, bool full, SysUserIndex index, FollowUps followUp, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var group = change.Group;
        var inScope = settings.GroupIds.Count == 0 || settings.GroupIds.Contains(group.Id, StringComparer.OrdinalIgnoreCase);
        if (group.Removed is not null || !inScope)
        {
            await DeactivateAsync(message, group.Id, group.Removed is not null ? "deleted in Entra ID" : "out of scope: not a configured group", cancellationToken);
            return;
        }

        // An incremental delta item carries only what changed (often just members@delta): absent properties are left alone.
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            [settings.ObjectIdField] = group.Id,
            ["active"] = "true",
        };
        if (group.DisplayName is not null || full)
        {
            fields["name"] = group.DisplayName ?? group.Id;
        }

        if (group.Description is not null || full)
        {
            fields["description"] = group.Description ?? string.Empty;
        }

        if (group.Mail is not null || full)
        {
            fields["email"] = group.Mail ?? string.Empty;
        }
        var result = await serviceNow.UpsertAsync(GroupTable, settings.ObjectIdField, group.Id, fields, cancellationToken);

        var desired = new HashSet<string>(StringComparer.Ordinal);
        var pending = 0;
        foreach (var memberId in change.Added)
        {
            if (await index.FindAsync(memberId, cancellationToken) is { } userSysId)
            {
                desired.Add(userSysId);
            }
            else
            {
                pending++;
                followUp.Add(memberId, group.Id);
            }
        }

        int added = 0, removed = 0;
        if (full)
        {
            var existing = new Dictionary<string, string>(StringComparer.Ordinal);
            if (result.Outcome != UpsertOutcome.Created)
            {
                await foreach (var row in serviceNow.QueryAsync(MemberTable, EncodedQuery.Where("group", result.SysId), ["sys_id", "user"], cancellationToken))
                {
                    if (row["user"] is { Length: > 0 } user)
                    {
                        if (!existing.TryAdd(user, row.SysId))
                        {
                            // A duplicate membership row (created by hand, or by an older tool): one is enough.
                            await serviceNow.DeleteAsync(MemberTable, row.SysId, cancellationToken);
                        }
                    }
                }
            }

            foreach (var userSysId in desired.Where(u => !existing.ContainsKey(u)))
            {
                await serviceNow.CreateAsync(MemberTable, Membership(userSysId, result.SysId), cancellationToken);
                added++;
            }

            foreach (var (userSysId, rowSysId) in existing.Where(e => !desired.Contains(e.Key)))
            {
                await serviceNow.DeleteAsync(MemberTable, rowSysId, cancellationToken);
                removed++;
            }
        }
        else
        {
            foreach (var userSysId in desired)
            {
                if (await FindMembershipAsync(userSysId, result.SysId, cancellationToken) is null)
                {
                    await serviceNow.CreateAsync(MemberTable, Membership(userSysId, result.SysId), cancellationToken);
                    added++;
                }
            }

            foreach (var memberId in change.Removed)
            {
                if (await index.FindAsync(memberId, cancellationToken) is { } userSysId &&
                    await FindMembershipAsync(userSysId, result.SysId, cancellationToken) is { } row)
                {
                    await serviceNow.DeleteAsync(MemberTable, row.SysId, cancellationToken);
                    removed++;
                }
            }
        }

        var changed = result.ChangedFields.ToList();
        if (added + removed > 0)
        {
            changed.Add("members");
        }

        var action = result.Outcome switch
        {
            UpsertOutcome.Created => ProvisioningAction.Created,
            _ when changed.Count > 0 => ProvisioningAction.Updated,
            _ => ProvisioningAction.Unchanged,
        };
        var reason = added + removed + pending == 0
            ? null
            : $"{added} members added, {removed} removed, {pending} waiting for their users to be provisioned";
        await AppendAsync(message, group.Id, action, changed, reason, result.SysId, cancellationToken);
    }

    /// <summary>A deleted or out-of-scope group: inactive, with no members. Never deleted.</summary>
    private async Task DeactivateAsync(ChangeMessage message, string groupId, string reason, CancellationToken cancellationToken)
    {
        var record = await serviceNow.FindAsync(GroupTable, EncodedQuery.Where(options.Value.ObjectIdField, groupId), ["sys_id", "active"], cancellationToken);
        if (record is null)
        {
            await AppendAsync(message, groupId, ProvisioningAction.Skipped, [], $"{reason}; not in ServiceNow", null, cancellationToken);
            return;
        }

        var removed = 0;
        var rows = new List<string>();
        await foreach (var row in serviceNow.QueryAsync(MemberTable, EncodedQuery.Where("group", record.SysId), ["sys_id"], cancellationToken))
        {
            rows.Add(row.SysId);
        }

        foreach (var row in rows)
        {
            await serviceNow.DeleteAsync(MemberTable, row, cancellationToken);
            removed++;
        }

        var changed = new List<string>();
        if (!string.Equals(record["active"], "false", StringComparison.OrdinalIgnoreCase))
        {
            await serviceNow.UpdateAsync(GroupTable, record.SysId, new Dictionary<string, string?> { ["active"] = "false" }, cancellationToken);
            changed.Add("active");
        }

        if (removed > 0)
        {
            changed.Add("members");
        }

        var action = changed.Count > 0 ? ProvisioningAction.Deactivated : ProvisioningAction.Unchanged;
        await AppendAsync(message, groupId, action, changed, removed > 0 ? $"{reason}; {removed} members removed" : reason, record.SysId, cancellationToken);
    }

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

    private Task<ServiceNowRecord?> FindMembershipAsync(string userSysId, string groupSysId, CancellationToken cancellationToken) =>
        serviceNow.FindAsync(MemberTable, EncodedQuery.Where("user", userSysId).And("group", groupSysId), ["sys_id"], cancellationToken);

    private static Dictionary<string, string?> Membership(string userSysId, string groupSysId) =>
        new(StringComparer.Ordinal) { ["user"] = userSysId, ["group"] = groupSysId };

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

    /// <summary>One group's net change over every page of a run.</summary>
    private sealed class GroupChange(DirectoryGroup first)
    {
        public DirectoryGroup Group { get; private set; } = first;

        public HashSet<string> Added { get; } = new(StringComparer.OrdinalIgnoreCase);

        public HashSet<string> Removed { get; } = new(StringComparer.OrdinalIgnoreCase);

        public void Merge(DirectoryGroup page)
        {
            // Later pages may carry only members: keep the properties we already have.
            Group = page with
            {
                DisplayName = page.DisplayName ?? Group.DisplayName,
                Description = page.Description ?? Group.Description,
                Mail = page.Mail ?? Group.Mail,
            };
            foreach (var id in page.MembersAdded)
            {
                Added.Add(id);
                Removed.Remove(id);
            }

            foreach (var id in page.MembersRemoved)
            {
                Removed.Add(id);
                Added.Remove(id);
            }
        }
    }

    /// <summary>Members whose users are not in ServiceNow yet: their users are queued, their groups looked at again later.</summary>
    private sealed class FollowUps
    {
        private readonly Lock _gate = new();

        public HashSet<string> MissingUsers { get; } = new(StringComparer.OrdinalIgnoreCase);

        public HashSet<string> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);

        public void Add(string userId, string groupId)
        {
            lock (_gate)
            {
                MissingUsers.Add(userId);
                Groups.Add(groupId);
            }
        }
    }
}
