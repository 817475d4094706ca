using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Retention;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Provisioning;

/// <summary>
/// The <c>user-changes</c> consumer: fetches the user's current state from Graph (the message is only a signal,
/// so duplicates and out-of-order deliveries are harmless; a full sync's message carries the user as its page said it
/// instead, see <see cref="PageSnapshot"/>), decides scope, maps, and writes only what changed to
/// sys_user. Users gone, disabled or out of scope are deactivated (active=false, locked_out=true), never deleted.
/// Every decision goes to the provisioning log.
/// </summary>
internal sealed class ProvisionUserHandler(
    IDirectory directory,
    IServiceNowTable serviceNow,
    UserAttributeMapper mapper,
    ProvisionedUserIds provisioned,
    UserScope scope,
    IMessageQueue queue,
    ICheckpointStore checkpoints,
    IProvisioningLog log,
    IOptions<ProvisioningOptions> options,
    IOptions<MessagingOptions> messaging,
    FullSyncRunner fullSync,
    TimeProvider clock,
    ILogger<ProvisionUserHandler> logger) : IMessageHandler
{
    internal const string UserTable = "sys_user";

    private readonly SysUserWriter _writer = new(serviceNow, directory, options);
    private readonly ObjectIdFieldCheck _objectIdField = new(serviceNow, options);

    public string Queue => QueueNames.UserChanges;

    public async Task HandleAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        if (message.Kind == MessageKinds.UserSyncPage)
        {
            await ReadSyncPageAsync(message, cancellationToken);
            return;
        }

        if (message.Kind is not (MessageKinds.UserUpdated or MessageKinds.UserDeleted or MessageKinds.UserSync))
        {
            throw new PermanentFailureException($"The user-changes queue does not handle '{message.Kind}' messages.");
        }

        try
        {
            // Without the field every lookup would find a stranger (an unknown query term is ignored): write nothing.
            await _objectIdField.EnsureAsync(UserTable, cancellationToken);
            var user = await ReadUserAsync(message, cancellationToken);
            ProvisioningTrace.Step("user", () => user is null || user.Removed is not null
                ? $"{message.SubjectId}: not in Entra ID (deleted)"
                : $"{user.UserPrincipalName} ({user.Id}), {(user.AccountEnabled == false ? "disabled" : "enabled")}");
            if (user is null || user.Removed is not null)
            {
                await DeletedObjects.RecordAsync(checkpoints, DeletedObjects.User, message.SubjectId, clock.GetUtcNow(), cancellationToken);
                await DeactivateAsync(message, "deleted in Entra ID", cancellationToken);
                return;
            }

            var outOfScope = await scope.OutOfScopeReasonAsync(user, cancellationToken);
            ProvisioningTrace.Step("scope", outOfScope ?? "in scope");
            if (outOfScope is not null)
            {
                await DeactivateAsync(message, outOfScope, cancellationToken);
                return;
            }

            await ProvisionAsync(message, user, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && FailureTranslation.Translate(ex) is { } translated)
        {
            await RecordFailureAsync(message, translated, cancellationToken);
            if (ReferenceEquals(translated, ex))
            {
                throw;
            }

            throw translated;
        }
    }

    /// <summary>
    /// The user to provision: as a full sync's page said it when the <c>user.sync</c> carries it (<see cref="PageSnapshot"/>)
    /// and no decision about the user was logged since that page was read, else the truth from Graph (every notification,
    /// follow-up and orphan, a user too large to carry, an incremental resync's users). The log rule is what makes the
    /// snapshot safe: see <see cref="PageSnapshot"/>.
    /// </summary>
    private async Task<DirectoryUser?> ReadUserAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        if (PageSnapshot.From(message) is { } snapshot)
        {
            var latest = await log.GetBySubjectAsync(message.SubjectId, 1, cancellationToken);
            if (latest.Count == 0 || !snapshot.DecidedSince(latest[0].Timestamp))
            {
                ProvisioningTrace.Step("read", () => $"from the full sync's users delta page read at {snapshot.ReadAt:u} (no Graph read)");
                return snapshot.User;
            }

            ProvisioningTrace.Step("read", () => $"from Graph: decided at {latest[0].Timestamp:u}, possibly after the full sync's page (read at {snapshot.ReadAt:u})");
        }

        return await directory.GetUserAsync(message.SubjectId, cancellationToken);
    }

    /// <summary>A page of a full sync's users walk: no user's own decision, so a failure is retried or dead-lettered, not logged per user.</summary>
    private async Task ReadSyncPageAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await fullSync.HandlePageAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && FailureTranslation.Translate(ex) is { } translated && !ReferenceEquals(translated, ex))
        {
            throw translated;
        }
    }

    private async Task ProvisionAsync(ChangeMessage message, DirectoryUser user, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var matchingValue = user.Attribute(settings.MatchingAttribute);
        if (string.IsNullOrWhiteSpace(matchingValue))
        {
            throw new PermanentFailureException(
                $"The matching attribute {settings.MatchingAttribute} is empty for this user, so it cannot be joined to a sys_user (EntryJoiningPropertyValueIsMissing).");
        }

        var knownManager = message.Property(ProvisioningMessageProperties.ManagerObjectId) is { Length: > 0 } managerId &&
            message.Property(ProvisioningMessageProperties.ManagerSysId) is { Length: > 0 } managerSysId
                ? (managerId, managerSysId)
                : ((string, string)?)null;
        var mapped = await mapper.MapAsync(user, cancellationToken, knownManager);
        var followUp = int.TryParse(message.Property(ProvisioningMessageProperties.FollowUp), out var n) ? n : 0;

        var fields = FieldsToWrite(user, mapped, settings, matchingValue);
        var enabled = user.AccountEnabled != false;

        var markerKey = ProvisioningMessageProperties.CreationMarkerKey(user.Id);
        var marker = await checkpoints.GetAsync(markerKey, cancellationToken);
        if (marker is null)
        {
            // Written before the create: whoever handles this user next knows a record may exist and looks it up.
            await checkpoints.SetAsync(markerKey, clock.GetUtcNow().ToString("O"), cancellationToken);
        }

        var result = await _writer.WriteAsync(user, fields, message, firstAttempt: marker is null, cancellationToken);
        if (result.Outcome == RecordWriteOutcome.Conflict)
        {
            await RecordConflictAsync(message, user, result, cancellationToken);
            return;
        }

        provisioned.Remember(user.Id, result.SysId!);
        var action = result.Outcome switch
        {
            RecordWriteOutcome.Created => ProvisioningAction.Created,
            RecordWriteOutcome.Adopted => ProvisioningAction.Adopted,
            RecordWriteOutcome.Updated => ProvisioningAction.Updated,
            _ => ProvisioningAction.Unchanged,
        };
        var reasons = new List<string>(mapped.Notes);
        var activeChanged = action == ProvisioningAction.Updated && result.ChangedFields.Contains("active");
        if (action is ProvisioningAction.Adopted or ProvisioningAction.Created && result.Reason is not null)
        {
            reasons.Insert(0, result.Reason);
        }
        else if (activeChanged && enabled)
        {
            reasons.Insert(0, "reactivated: enabled and in scope in Entra ID");
        }
        else if (activeChanged)
        {
            action = ProvisioningAction.Deactivated;
            reasons.Insert(0, "account disabled in Entra ID");
        }
        else if (action == ProvisioningAction.Created && !enabled)
        {
            reasons.Insert(0, "created inactive: account disabled in Entra ID");
        }

        if (mapped.Pending.Count > 0)
        {
            reasons.Add($"{string.Join(", ", mapped.Pending.Keys)} not provisioned yet; resolved later");
        }

        await AppendAsync(message, action, result.ChangedFields, reasons.Count == 0 ? null : string.Join("; ", reasons), result.SysId, cancellationToken);

        if (action == ProvisioningAction.Created && enabled && settings.Onboarding.Enabled)
        {
            await RaiseLifecycleRecordAsync(settings.Onboarding, DailyKey("onboarding", user.Id), result.SysId,
                $"Onboarding: {user.DisplayName ?? user.UserPrincipalName}", cancellationToken);
        }

        if (action == ProvisioningAction.Deactivated && settings.Offboarding.Enabled)
        {
            await RaiseLifecycleRecordAsync(settings.Offboarding, DailyKey("offboarding", user.Id), result.SysId,
                "Offboarding: user deactivated (account disabled in Entra ID)", cancellationToken);
        }

        if (mapped.Pending.Count > 0 && followUp < settings.FollowUpAttempts)
        {
            // The user is written now without the manager (its own reports can then find it) and looked at again later.
            await ScheduleFollowUpAsync(message, followUp + 1, cancellationToken);
        }
    }

    /// <summary>Every sys_user field the handler writes for a user in scope: the mapped fields, the join fields, and the account state.</summary>
    internal static Dictionary<string, string?> FieldsToWrite(DirectoryUser user, MappedUser mapped, ProvisioningOptions settings, string matchingValue)
    {
        var fields = mapped.Fields;
        fields[settings.ObjectIdField] = user.Id;
        fields[settings.EffectiveMatchingField] = matchingValue;
        // accountEnabled maps to active: a disabled user in scope is written inactive and locked out (so it can
        // still be a manager or a requester), and comes back when re-enabled.
        var enabled = user.AccountEnabled != false;
        fields["active"] = enabled ? "true" : "false";
        fields["locked_out"] = enabled ? "false" : "true";
        return fields;
    }

    /// <summary>What is logged for a user to deactivate that has no sys_user.</summary>
    internal static string NothingToDeactivate(string reason) => $"{reason}; not in ServiceNow, nothing to deactivate";

    /// <summary>What is logged for a user to deactivate whose sys_user is already inactive and locked out.</summary>
    internal static string AlreadyInactive(string reason) => $"{reason}; already inactive";

    /// <summary>Whether a sys_user is already as deactivation leaves it.</summary>
    internal static bool IsDeactivated(IReadOnlyDictionary<string, string?> record) =>
        string.Equals(record["active"], "false", StringComparison.OrdinalIgnoreCase) &&
        string.Equals(record["locked_out"], "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Deactivates the user's sys_user if there is one. Never deletes: history and tickets stay linked.</summary>
    private async Task DeactivateAsync(ChangeMessage message, string reason, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var knownAbsent = message.Property(ProvisioningMessageProperties.AbsentInServiceNow) == "true" &&
            await checkpoints.GetAsync(ProvisioningMessageProperties.CreationMarkerKey(message.SubjectId), cancellationToken) is null;
        var record = knownAbsent
            ? null
            : await serviceNow.FindAsync(UserTable, EncodedQuery.Where(settings.ObjectIdField, message.SubjectId),
                ["sys_id", "active", "locked_out"], cancellationToken);
        ProvisioningTrace.Step("match", record is null
            ? $"no {UserTable} carries the object id ({settings.ObjectIdField})"
            : $"{UserTable} {record.SysId} carries the object id ({settings.ObjectIdField})");
        if (record is null)
        {
            ProvisioningTrace.Step("write", "nothing to deactivate");
            await AppendAsync(message, ProvisioningAction.Skipped, [], NothingToDeactivate(reason), null, cancellationToken);
            return;
        }

        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (!string.Equals(record["active"], "false", StringComparison.OrdinalIgnoreCase))
        {
            changes["active"] = "false";
        }

        if (!string.Equals(record["locked_out"], "true", StringComparison.OrdinalIgnoreCase))
        {
            changes["locked_out"] = "true";
        }

        ProvisioningTrace.Step("write", changes.Count == 0
            ? "nothing to change: already inactive and locked out"
            : $"deactivated {UserTable} {record.SysId}: {string.Join(", ", changes.Select(c => $"{c.Key} '{record[c.Key]}' → '{c.Value}'"))}");
        if (changes.Count == 0)
        {
            await AppendAsync(message, ProvisioningAction.Unchanged, [], AlreadyInactive(reason), record.SysId, cancellationToken);
            return;
        }

        await serviceNow.UpdateAsync(UserTable, record.SysId, changes, cancellationToken);
        await AppendAsync(message, ProvisioningAction.Deactivated, [.. changes.Keys], reason, record.SysId, cancellationToken);
        if (settings.Offboarding.Enabled && changes.ContainsKey("active"))
        {
            await RaiseLifecycleRecordAsync(settings.Offboarding, DailyKey("offboarding", message.SubjectId), record.SysId,
                $"Offboarding: user deactivated ({reason})", cancellationToken);
        }
    }

    /// <summary>
    /// No write for a user whose existing records are ambiguous or taken: the decision is logged with what is in
    /// conflict and, by setting, a task asks a person to sort the records out (one per user, however often it recurs).
    /// </summary>
    private async Task RecordConflictAsync(ChangeMessage message, DirectoryUser user, RecordWriteResult result, CancellationToken cancellationToken)
    {
        logger.LogWarning("User {SubjectId} not written: {Reason}", user.Id, result.Reason);
        ProvisioningTrace.Step("write", $"nothing written: {result.Reason}");
        await AppendAsync(message, ProvisioningAction.Conflict, [], result.Reason, result.SysId, cancellationToken);
        var task = options.Value.Adoption.ConflictTask;
        if (task.Enabled || result.AskPerson)
        {
            await RaiseLifecycleRecordAsync(task, $"entrasnow:adoption-conflict:{user.Id}", null,
                $"EntraSnow cannot match {user.UserPrincipalName} to one sys_user: {result.Reason}", cancellationToken);
        }
    }

    private string DailyKey(string purpose, string objectId) => $"entrasnow:{purpose}:{objectId}:{clock.GetUtcNow():yyyyMMdd}";

    /// <summary>An onboarding request, offboarding task or conflict task, keyed by correlation_id so a redelivery cannot raise it twice.</summary>
    private async Task RaiseLifecycleRecordAsync(LifecycleRecordOptions settings, string key, string? userSysId, string description, CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["correlation_id"] = key,
            ["short_description"] = description,
        };
        if (userSysId is not null)
        {
            fields["requested_for"] = userSysId;
        }
        if (!string.IsNullOrEmpty(settings.AssignmentGroup))
        {
            fields["assignment_group"] = settings.AssignmentGroup;
        }

        await serviceNow.UpsertAsync(settings.Table, "correlation_id", key, fields, cancellationToken);
    }

    private async Task ScheduleFollowUpAsync(ChangeMessage message, int followUp, CancellationToken cancellationToken)
    {
        var properties = new Dictionary<string, string>(message.Properties, StringComparer.Ordinal)
        {
            [ProvisioningMessageProperties.FollowUp] = followUp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        // What the full sync found out held for the first attempt only.
        properties.Remove(ProvisioningMessageProperties.AbsentInServiceNow);
        properties.Remove(ProvisioningMessageProperties.AdoptSysId);
        properties.Remove(ProvisioningMessageProperties.AdoptionReason);
        properties.Remove(ProvisioningMessageProperties.AdoptionConflict);
        properties.Remove(ProvisioningMessageProperties.ManagerSysId);
        properties.Remove(ProvisioningMessageProperties.ManagerObjectId);
        // A follow-up reads the truth: the page the sync read is older than the wait.
        properties.Remove(ProvisioningMessageProperties.PageSnapshot);

        var now = clock.GetUtcNow();
        var delay = options.Value.FollowUpDelay * Math.Pow(2, followUp - 1);
        var next = message with
        {
            MessageId = $"user.followup:{message.SubjectId}:{message.CorrelationId}:{followUp}",
            Kind = MessageKinds.UserSync,
            ChangedAt = now,
            Attempt = 0,
            Properties = properties,
        };
        await queue.ScheduleAsync(QueueNames.UserChanges, next, now + delay, cancellationToken);
    }

    private async Task RecordFailureAsync(ChangeMessage message, Exception translated, CancellationToken cancellationToken)
    {
        // Transient failures are recorded only when this was the last attempt: the message dead-letters next.
        var lastAttempt = message.Attempt + 1 >= messaging.Value.MaxAttempts;
        // A paused connector never dead-letters the message: nothing to record.
        if (translated is ConnectorUnavailableException || (translated is TransientFailureException && !lastAttempt))
        {
            return;
        }

        var reason = translated is TransientFailureException
            ? $"still failing after {message.Attempt + 1} attempts: {translated.Message}"
            : translated.Message;
        try
        {
            await AppendAsync(message, ProvisioningAction.Failed, [], reason, null, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The failure itself matters more than its log entry: it still reaches the dead-letter queue with the reason.
            logger.LogWarning(ex, "Could not record the failure of {SubjectId} in the provisioning log", message.SubjectId);
        }
    }

    private Task AppendAsync(ChangeMessage message, ProvisioningAction action, IReadOnlyList<string> changedFields, string? reason, string? sysId, CancellationToken cancellationToken)
    {
        logger.LogInformation("User {SubjectId}: {Action} {ChangedFields} {Reason}", message.SubjectId, action, changedFields, reason);
        ProvisioningTelemetry.Decided(action, ProvisioningObjectKinds.User);
        return log.AppendAsync(new ProvisioningLogEntry
        {
            Timestamp = clock.GetUtcNow(),
            CorrelationId = message.CorrelationId,
            MessageId = message.MessageId,
            SubjectId = message.SubjectId,
            ObjectKind = ProvisioningObjectKinds.User,
            Action = action,
            ChangedFields = changedFields,
            Reason = reason,
            TargetSysId = sysId,
        }, cancellationToken);
    }
}
