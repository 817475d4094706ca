using System.Globalization;
using System.Text;
using System.Text.Json;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.FullSync;

/// <summary>
/// The users walk of a run: one <c>user.sync-page</c> message per step, a few users delta pages (about
/// <see cref="ChunksPerStep"/> chunks of users). Each step reads its pages, compares them in chunks, logs the unchanged
/// users, notes the others (ids, managers, match values: never whole users) under <see cref="WalkKeyPrefix"/>, and queues
/// the next step; the last step queues the noted users managers first, then the groups run.
/// </summary>
public sealed partial class FullSyncRunner
{
    /// <summary>What each chunk of a run's walk noted, until the users are queued.</summary>
    internal const string WalkKeyPrefix = "fullsync:walk:";

    private static readonly JsonSerializerOptions NoteJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault,
    };

    /// <summary>How many chunks of users one step of the walk (one message) compares.</summary>
    private const int ChunksPerStep = 6;

    // A checkpoint value stays under what one Azure Table property holds (64 KiB of UTF-16).
    private const int MaxNoteChars = 30_000;

    /// <summary>
    /// Handles a <c>user.sync-page</c>: reads the step the run's walk is at, compares it, and queues the next step, or
    /// after the last one the users that differ. A step the walk is already past is a duplicate and is dropped.
    /// </summary>
    internal async Task HandlePageAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var runId = message.Property(ProvisioningMessageProperties.SyncRun) ?? throw new FormatException("A user.sync-page message without its run.");
        var page = int.TryParse(message.Property(ProvisioningMessageProperties.SyncPage), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new FormatException("A user.sync-page message without its page number.");
        var state = await LoadAsync(runId, cancellationToken);
        if (state is not { Phase: SyncPhase.QueuingUsers } || page != state.NextPage)
        {
            logger.LogDebug("Full sync {RunId}: page {Page} already read", runId, page);
            return;
        }

        var link = page == 0 ? (state.FromScratch ? null : await checkpoints.GetAsync(UsersDeltaLinkKey, cancellationToken)) : state.NextLink;
        // A step reads delta pages until it holds a few whole chunks: chunks then seldom fall short at a page's end.
        var stepUsers = options.Value.FullSyncChunkSize * ChunksPerStep;
        var users = new List<DirectoryUser>(stepUsers);
        string? nextLink = null, deltaLink = null;
        var fullResync = false;
        await foreach (var read in directory.GetUsersDeltaAsync(link, cancellationToken))
        {
            users.AddRange(read.Items);
            (nextLink, deltaLink, fullResync) = (read.NextLink, read.DeltaLink, fullResync || read.IsFullResync);
            if (users.Count >= stepUsers)
            {
                break; // The walk goes on in the next message.
            }
        }

        users = users.DistinctBy(u => u.Id, StringComparer.OrdinalIgnoreCase).ToList();
        var compare = await comparison.CanCompareAsync(cancellationToken);
        var chunkIndex = 0;
        foreach (var chunk in users.Chunk(options.Value.FullSyncChunkSize))
        {
            await CompareChunkAsync(state.RunId, page, chunkIndex++, chunk, compare, cancellationToken);
        }

        var next = state with
        {
            NextPage = page + 1,
            NextLink = nextLink,
            FullRead = state.FullRead || link is null || fullResync,
            UsersQueued = state.UsersQueued + users.Count,
        };
        if (nextLink is not null)
        {
            // Sent before the state moves on: a crash in between reads this page again, never skips the next.
            await queue.SendAsync(QueueNames.UserChanges, [PageMessage(next)], cancellationToken);
            await SaveAsync(next, cancellationToken);
            return;
        }

        var queued = await QueueNotedUsersAsync(next, cancellationToken);
        await QueueGroupsAsync(next, cancellationToken);
        if (deltaLink is not null)
        {
            await checkpoints.SetAsync(UsersDeltaLinkKey, deltaLink, cancellationToken);
        }

        await SaveAsync(next with { Phase = SyncPhase.ProvisioningUsers, UsersQueued = queued }, cancellationToken);
        await foreach (var note in checkpoints.ListAsync(WalkKey(runId), cancellationToken))
        {
            await checkpoints.DeleteAsync(note.Key, cancellationToken);
        }
    }

    private ChangeMessage PageMessage(SyncRunState state) => new()
    {
        MessageId = $"{MessageKinds.UserSyncPage}:{state.RunId}:{state.NextPage}",
        SessionKey = $"fullsync:{state.RunId}",
        Kind = MessageKinds.UserSyncPage,
        TenantId = options.Value.TenantId,
        SubjectId = $"users delta page {state.NextPage}",
        ChangedAt = clock.GetUtcNow(),
        CorrelationId = state.RunId,
        Properties = new Dictionary<string, string>
        {
            [ProvisioningMessageProperties.SyncRun] = state.RunId,
            [ProvisioningMessageProperties.SyncPage] = state.NextPage.ToString(CultureInfo.InvariantCulture),
        },
    };

    internal static string WalkKey(string runId) => $"{WalkKeyPrefix}{runId}:";

    /// <summary>Compares one chunk, logs what it decided, and notes every user seen and each one its handler must see.</summary>
    private async Task CompareChunkAsync(string runId, int page, int chunkIndex, DirectoryUser[] chunk, bool compare, CancellationToken cancellationToken)
    {
        var decisions = compare
            ? await comparison.CompareAsync(chunk, cancellationToken)
            : chunk.Select(u => new ChunkDecision(u.Id, ChunkVerdict.Differs)).ToList();
        var seen = new List<NotedUser>(chunk.Length);
        foreach (var (user, decision) in chunk.Zip(decisions))
        {
            if (decision.Verdict is ChunkVerdict.Unchanged or ChunkVerdict.Skipped)
            {
                await LogDecidedAsync(runId, decision, cancellationToken);
                seen.Add(new NotedUser(user.Id, decision.SysId));
                continue;
            }

            seen.Add(new NotedUser(user.Id, decision.SysId)
            {
                Pending = true,
                ManagerId = user.ManagerId,
                Absent = decision.Verdict == ChunkVerdict.Absent,
                Match = decision.Verdict == ChunkVerdict.Absent && _adoption.Enabled
                    ? [.. _adoption.MatchValues(user).Select(v => new[] { v.Field, v.Value })]
                    : null,
            });
        }

        // Parts small enough for any checkpoint store; rewritten whole when a page is read again.
        var part = 0;
        var json = new StringBuilder();
        foreach (var noted in seen)
        {
            var one = JsonSerializer.Serialize(noted, NoteJson);
            if (json.Length > 0 && json.Length + one.Length + 2 > MaxNoteChars)
            {
                await checkpoints.SetAsync($"{WalkKey(runId)}{page:D6}:{chunkIndex:D4}:{part++:D2}", $"[{json}]", cancellationToken);
                json.Clear();
            }

            json.Append(json.Length > 0 ? "," : string.Empty).Append(one);
        }

        await checkpoints.SetAsync($"{WalkKey(runId)}{page:D6}:{chunkIndex:D4}:{part:D2}", $"[{json}]", cancellationToken);
    }

    /// <summary>After the last page: the noted users that differ go to their handlers, managers first; orphans are deactivated.</summary>
    private async Task<int> QueueNotedUsersAsync(SyncRunState state, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        // Object id to sys_id of the users a sys_user carries the object id of: their reports' messages name them.
        var present = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var managers = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var absent = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var matchValues = new Dictionary<string, IReadOnlyList<(string Field, string Value)>>(StringComparer.OrdinalIgnoreCase);
        await foreach (var note in checkpoints.ListAsync(WalkKey(state.RunId), cancellationToken))
        {
            foreach (var noted in JsonSerializer.Deserialize<List<NotedUser>>(note.Value, NoteJson) ?? [])
            {
                seen.Add(noted.Id);
                if (noted.SysId is { Length: > 0 } sysId)
                {
                    present[noted.Id] = sysId;
                }

                if (!noted.Pending)
                {
                    continue;
                }

                managers[noted.Id] = noted.ManagerId;
                if (noted.Absent)
                {
                    absent.Add(noted.Id);
                    matchValues[noted.Id] = noted.Match?.Select(m => (m[0], m[1])).ToList() ?? [];
                }
            }
        }

        // Managers first: a report is then created once with its manager instead of created and patched later.
        var ordered = ManagersFirst(managers);
        // Users without a record: the existing records they would adopt, decided for the whole run at once.
        var adoptions = _adoption.Enabled
            ? await new BatchAdoption(serviceNow, _adoption).DecideAsync(
                ordered.Where(absent.Contains).ToDictionary(id => id, id => matchValues[id], StringComparer.OrdinalIgnoreCase), cancellationToken)
            : null;
        foreach (var ids in ordered.Chunk(LookupChunk))
        {
            var messages = ids.Select(id => UserSyncMessage(state.RunId, id, absent.Contains(id) ? AdoptionOf(adoptions, id) : null,
                managers.GetValueOrDefault(id), ManagerSysIdOf(managers.GetValueOrDefault(id), present, adoptions))).ToList();
            await queue.SendAsync(QueueNames.UserChanges, messages, cancellationToken);
        }

        if (state.FullRead)
        {
            // Drift: a sys_user still active for an Entra user that no longer exists. Its user.sync deactivates it.
            var orphans = new List<ChangeMessage>();
            var query = EncodedQuery.Where(settings.ObjectIdField, "ISNOTEMPTY", string.Empty).And("active", "true");
            await foreach (var record in serviceNow.QueryAsync(ProvisionUserHandler.UserTable, query, [settings.ObjectIdField, "active"], cancellationToken))
            {
                if (record[settings.ObjectIdField] is { Length: > 0 } objectId &&
                    string.Equals(record["active"], "true", StringComparison.OrdinalIgnoreCase) && seen.Add(objectId))
                {
                    orphans.Add(UserSyncMessage(state.RunId, objectId, null, null, null));
                }
            }

            foreach (var batch in orphans.Chunk(LookupChunk))
            {
                await queue.SendAsync(QueueNames.UserChanges, batch, cancellationToken);
            }

            if (orphans.Count > 0)
            {
                logger.LogInformation("Full sync {RunId}: {Count} active sys_users have no Entra user any more", state.RunId, orphans.Count);
            }
        }

        return seen.Count;
    }

    /// <summary>A user the comparison decided: logged as its handler would have, under the message id it would have had.</summary>
    private Task LogDecidedAsync(string runId, ChunkDecision decision, CancellationToken cancellationToken)
    {
        var action = decision.Verdict == ChunkVerdict.Unchanged ? ProvisioningAction.Unchanged : ProvisioningAction.Skipped;
        ProvisioningTelemetry.Decided(action, ProvisioningObjectKinds.User);
        return log.AppendAsync(new ProvisioningLogEntry
        {
            Timestamp = clock.GetUtcNow(),
            CorrelationId = runId,
            MessageId = UserSyncMessageId(runId, decision.UserId),
            SubjectId = decision.UserId,
            ObjectKind = ProvisioningObjectKinds.User,
            Action = action,
            ChangedFields = [],
            Reason = decision.Reason,
            TargetSysId = decision.SysId,
        }, cancellationToken);
    }

    /// <summary>A user the walk saw: its record, and for one its handler must see, what ordering and adoption need.</summary>
    private sealed record NotedUser(string Id, string? SysId)
    {
        public bool Pending { get; init; }
        public string? ManagerId { get; init; }
        public bool Absent { get; init; }
        public List<string[]>? Match { get; init; }
    }
}
